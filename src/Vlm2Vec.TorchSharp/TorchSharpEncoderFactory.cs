using Microsoft.Extensions.Logging;
using Vlm2Vec.TorchSharp.Checkpoints;
using Vlm2Vec.TorchSharp.Modeling;

namespace Vlm2Vec.TorchSharp;

/// <summary>
/// The TorchSharp engine as an <see cref="IVlm2VecEncoderFactory"/>: opens a Hugging Face Qwen2-VL / VLM2Vec checkpoint
/// folder (<c>config.json</c>, safetensors or <c>.bin</c> weights, tokenizer and <c>preprocessor_config.json</c>) with
/// <see cref="TorchSharpVlm2VecEncoder.FromPretrained"/>. CPU only (TorchSharp-cpu). Register it where encoders are
/// opened by path, for example <c>services.AddVlm2VecEncoderFactory(new TorchSharpEncoderFactory())</c>.
/// </summary>
public sealed class TorchSharpEncoderFactory : IVlm2VecEncoderFactory
{
    /// <summary>The engine name, <c>torchsharp</c>.</summary>
    public const string EngineName = "torchsharp";

    private readonly Qwen2VlLoadOptions _loadOptions;

    /// <summary>Creates the factory; <paramref name="loadOptions"/> sets dtype, adapter and attention for every model it opens.</summary>
    public TorchSharpEncoderFactory(Qwen2VlLoadOptions? loadOptions = null)
    {
        _loadOptions = loadOptions ?? new Qwen2VlLoadOptions();
    }

    /// <inheritdoc />
    public string Engine => EngineName;

    /// <inheritdoc />
    public bool CanOpen(string modelPath)
    {
        if (string.IsNullOrEmpty(modelPath) || !Directory.Exists(modelPath) || !File.Exists(Path.Combine(modelPath, CheckpointFolder.ConfigFileName)))
        {
            return false;
        }

        return File.Exists(Path.Combine(modelPath, CheckpointFolder.SafetensorsFileName))
            || File.Exists(Path.Combine(modelPath, CheckpointFolder.SafetensorsIndexFileName))
            || File.Exists(Path.Combine(modelPath, CheckpointFolder.PyTorchBinFileName))
            || File.Exists(Path.Combine(modelPath, CheckpointFolder.PyTorchBinIndexFileName));
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">A device other than the CPU was asked for.</exception>
    public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrEmpty(options.Device) && !string.Equals(options.Device, "cpu", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException(
                $"The TorchSharp engine runs on the CPU only (TorchSharp-cpu); device '{options.Device}' is not available. Use 'cpu', or the ONNX Runtime engine for GPUs.");
        }

        // The preprocessing logs through the caller's logger factory (truncation warnings must not be silent).
        var preprocessor = Vlm2VecPreprocessor.FromFolder(options.ModelPath, options.Preprocessing, options.LoggerFactory?.CreateLogger<Vlm2VecPreprocessor>());
        var model = Qwen2VlForConditionalGeneration.FromPretrained(options.ModelPath, _loadOptions);
        try
        {
            var id = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.ModelPath)));
            return new TorchSharpVlm2VecEncoder(model, preprocessor, id, options.ModelPath);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
