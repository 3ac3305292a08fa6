using Microsoft.Extensions.Logging;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Modeling;

namespace Vlm2Vec.TorchSharp;

/// <summary>
/// Opens Hugging Face Qwen2-VL checkpoint folders (<c>config.json</c>, safetensors or <c>pytorch_model.bin</c> weights,
/// optional PEFT adapter, and the tokenizer and <c>preprocessor_config.json</c>) as <see cref="TorchSharpVlm2VecEncoder"/>s
/// on the CPU. Hosts that open models by path (the ML.NET transformer, the embedding generator's DI registration) find it
/// by its type name, so it keeps a public parameterless constructor.
/// </summary>
public sealed class TorchSharpVlm2VecEncoderFactory : IVlm2VecEncoderFactory
{
    private readonly Qwen2VlLoadOptions _loadOptions;

    /// <summary>Loads float32 weights (the default <see cref="Qwen2VlLoadOptions"/>).</summary>
    public TorchSharpVlm2VecEncoderFactory()
        : this(new Qwen2VlLoadOptions())
    {
    }

    /// <summary>Loads with the given options (dtype, adapter, attention kernel).</summary>
    public TorchSharpVlm2VecEncoderFactory(Qwen2VlLoadOptions loadOptions)
    {
        ArgumentNullException.ThrowIfNull(loadOptions);
        _loadOptions = loadOptions;
    }

    /// <inheritdoc />
    public string Engine => "torchsharp";

    /// <inheritdoc />
    public bool CanOpen(string modelPath) =>
        Directory.Exists(modelPath)
        && File.Exists(Path.Combine(modelPath, "config.json"))
        && !File.Exists(Path.Combine(modelPath, "vlm2vec.json"))
        && (Directory.EnumerateFiles(modelPath, "*.safetensors").Any()
            || File.Exists(Path.Combine(modelPath, "model.safetensors.index.json"))
            || File.Exists(Path.Combine(modelPath, "pytorch_model.bin")));

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">A device other than the CPU was asked for (TorchSharp-cpu only).</exception>
    public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Device is { } device && !device.Equals("cpu", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException(
                $"The TorchSharp engine runs on the CPU only (TorchSharp-cpu); device '{device}' is not available. Use the ONNX Runtime engine for GPUs.");
        }

        var logger = options.LoggerFactory?.CreateLogger<Vlm2VecPreprocessor>();
        var preprocessor = Vlm2VecPreprocessor.FromFolder(options.ModelPath, options.Preprocessing, logger);
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
