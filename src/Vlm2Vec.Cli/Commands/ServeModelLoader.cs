using Microsoft.Extensions.Logging;
using Vlm2Vec.TorchSharp;

namespace Vlm2Vec.Cli.Commands;

/// <summary>Opens the model folder given to <c>serve</c> with the first engine that can read it.</summary>
internal static class ServeModelLoader
{
    /// <summary>The engines the tool carries, in order of preference. The ONNX Runtime engine joins when it ships.</summary>
    internal static IReadOnlyList<IVlm2VecEncoderFactory> Engines { get; } = [new TorchSharpEncoderFactory()];

    /// <summary>Loads <paramref name="folder"/> on a worker thread.</summary>
    /// <exception cref="ModelFormatException">The folder is not a model any engine of this build can open.</exception>
    public static Task<IVlm2VecEncoder> LoadAsync(string folder, ILoggerFactory loggerFactory, CancellationToken cancellationToken) => Task.Run(() =>
    {
        foreach (var engine in Engines)
        {
            if (engine.CanOpen(folder))
            {
                if (engine is TorchSharpEncoderFactory)
                {
                    TorchSharpRuntime.EnsureLoaded();
                }

                return engine.Create(new Vlm2VecEncoderOptions { ModelPath = folder, LoggerFactory = loggerFactory });
            }
        }

        throw new ModelFormatException(File.Exists(Path.Combine(folder, "vlm2vec.json"))
            ? $"'{folder}' is an ONNX model bundle (vlm2vec.json), and this build of vlm2vec has no ONNX Runtime engine yet. " +
              "Serve the Hugging Face checkpoint folder (config.json + *.safetensors) instead."
            : $"'{folder}' is not a model folder any engine of this build can open: expected a Hugging Face Qwen2-VL checkpoint " +
              "(config.json with model.safetensors, a safetensors index, or pytorch_model.bin).");
    }, cancellationToken);
}
