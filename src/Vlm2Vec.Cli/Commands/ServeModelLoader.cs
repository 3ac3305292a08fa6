using Vlm2Vec.TorchSharp;

namespace Vlm2Vec.Cli.Commands;

/// <summary>Opens the model folder given to <c>serve</c> with the engine that reads it.</summary>
internal static class ServeModelLoader
{
    /// <summary>Loads <paramref name="folder"/> on a worker thread.</summary>
    /// <exception cref="ModelFormatException">The folder is not a model this build can serve.</exception>
    public static Task<IVlm2VecEncoder> LoadAsync(string folder, CancellationToken cancellationToken) => Task.Run<IVlm2VecEncoder>(() =>
    {
        if (File.Exists(Path.Combine(folder, "vlm2vec.json")))
        {
            // The ONNX Runtime encoder (Vlm2Vec.OnnxRuntime) reads bundles; it is not part of this build yet.
            throw new ModelFormatException(
                $"'{folder}' is an ONNX model bundle (vlm2vec.json), and this build of vlm2vec has no ONNX Runtime encoder yet. " +
                "Serve the Hugging Face checkpoint folder (config.json + *.safetensors) instead.");
        }

        if (!File.Exists(Path.Combine(folder, "config.json")))
        {
            throw new ModelFormatException(
                $"'{folder}' holds neither config.json (a Hugging Face checkpoint) nor vlm2vec.json (a model bundle); it is not a model folder.");
        }

        TorchSharpRuntime.EnsureLoaded();
        return TorchSharpVlm2VecEncoder.FromPretrained(folder);
    }, cancellationToken);
}
