using Microsoft.Extensions.Logging;
using Vlm2Vec.OnnxRuntime;
using Vlm2Vec.TorchSharp;

namespace Vlm2Vec.Cli.Commands;

/// <summary>Opens the model folder given to <c>serve</c> with the first engine that can read it.</summary>
internal static class ServeModelLoader
{
    /// <summary>
    /// The engines the tool carries, in order of preference: ONNX Runtime for vlm2vec bundles (<c>vlm2vec.json</c>),
    /// TorchSharp for Hugging Face checkpoints.
    /// </summary>
    internal static IReadOnlyList<IVlm2VecEncoderFactory> Engines { get; } = [new OnnxRuntimeEncoderFactory(), new TorchSharpEncoderFactory()];

    /// <summary>Loads <paramref name="folder"/> on a worker thread.</summary>
    /// <exception cref="ModelFormatException">The folder is not a model any engine of this build can open.</exception>
    public static Task<IVlm2VecEncoder> LoadAsync(string folder, ILoggerFactory loggerFactory, CancellationToken cancellationToken, string? device = null) =>
        Task.Run(() => ModelLoader.Open(folder, Engines, loggerFactory, device), cancellationToken);
}
