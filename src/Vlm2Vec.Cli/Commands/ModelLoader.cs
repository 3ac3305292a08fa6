using Microsoft.Extensions.Logging;
using Vlm2Vec.TorchSharp;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// Opens a <c>--model</c> folder with the first engine (<see cref="IVlm2VecEncoderFactory"/>) whose <c>CanOpen</c>
/// accepts it: the engines the tool carries (<see cref="ServeModelLoader.Engines"/>: TorchSharp for Hugging Face
/// checkpoints; ONNX Runtime for bundles when it ships), or <see cref="CliEnvironment.EncoderFactories"/> (tests, hosts).
/// When none can open a folder, the error says what the folder looks like and which engine it needs.
/// </summary>
internal static class ModelLoader
{
    /// <summary>What a model folder holds, from its file names.</summary>
    internal enum ModelFolderKind
    {
        /// <summary>Neither a bundle nor a checkpoint.</summary>
        Unknown,

        /// <summary>A vlm2vec ONNX bundle (<c>vlm2vec.json</c>).</summary>
        OnnxBundle,

        /// <summary>A Hugging Face checkpoint folder.</summary>
        HuggingFaceCheckpoint,
    }

    /// <summary>Opens the encoder of <paramref name="folder"/>; the caller disposes it.</summary>
    /// <exception cref="ModelFormatException">The folder is missing, or no engine present can open it.</exception>
    public static IVlm2VecEncoder Open(string folder, CliEnvironment environment, ILoggerFactory? loggerFactory)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new ModelFormatException($"Model folder '{folder}' does not exist. Give a vlm2vec model bundle or a Hugging Face checkpoint folder (vlm2vec pull prints one).");
        }

        var factories = environment.EncoderFactories ?? ServeModelLoader.Engines;
        foreach (var factory in factories)
        {
            if (factory.CanOpen(folder))
            {
                if (factory is TorchSharpEncoderFactory)
                {
                    TorchSharpRuntime.EnsureLoaded();
                }

                return factory.Create(new Vlm2VecEncoderOptions { ModelPath = folder, LoggerFactory = loggerFactory });
            }
        }

        var engines = factories.Count == 0 ? "none" : string.Join(", ", factories.Select(f => f.Engine));
        throw Detect(folder) switch
        {
            ModelFolderKind.OnnxBundle => new ModelFormatException(
                $"'{folder}' is a vlm2vec model bundle, but no engine of this build can open it (engines present: {engines}). " +
                "It needs the ONNX Runtime engine (Vlm2Vec.OnnxRuntime), which this build of vlm2vec does not include yet; evaluate the Hugging Face checkpoint folder instead."),
            ModelFolderKind.HuggingFaceCheckpoint => new ModelFormatException(
                $"'{folder}' is a Hugging Face checkpoint, but no engine of this build can open it (engines present: {engines}). " +
                "It needs the TorchSharp engine (torchsharp)."),
            _ => new ModelFormatException(
                $"'{folder}' is not a model folder: a vlm2vec model bundle has vlm2vec.json; a Hugging Face checkpoint has config.json with model.safetensors " +
                $"(or a sharded index, or pytorch_model.bin). Engines present: {engines}."),
        };
    }

    /// <summary>What <paramref name="folder"/> holds, from its file names.</summary>
    public static ModelFolderKind Detect(string folder)
    {
        if (File.Exists(Path.Combine(folder, "vlm2vec.json")))
        {
            return ModelFolderKind.OnnxBundle;
        }

        var weights = Directory.EnumerateFiles(folder, "*.safetensors").Any()
            || File.Exists(Path.Combine(folder, "model.safetensors.index.json"))
            || File.Exists(Path.Combine(folder, "pytorch_model.bin"))
            || File.Exists(Path.Combine(folder, "pytorch_model.bin.index.json"));
        return File.Exists(Path.Combine(folder, "config.json")) && weights ? ModelFolderKind.HuggingFaceCheckpoint : ModelFolderKind.Unknown;
    }
}
