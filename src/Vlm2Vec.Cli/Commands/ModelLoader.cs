namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// Resolves a <c>--model</c> folder to an encoder: a vlm2vec model bundle (<c>vlm2vec.json</c>) goes to the ONNX Runtime
/// engine, a Hugging Face checkpoint (<c>config.json</c> with safetensors or <c>.bin</c> weights, or a PEFT adapter) to
/// the TorchSharp engine. <see cref="CliEnvironment.OpenModel"/> replaces the whole resolution (tests, hosts).
/// </summary>
/// <remarks>
/// The engines live in Vlm2Vec.OnnxRuntime and Vlm2Vec.TorchSharp, which the tool does not reference yet; until they
/// are wired in (<see cref="OpenBundle"/>, <see cref="OpenCheckpoint"/>), a recognised folder fails with a model error
/// that says so, and an unrecognised one with what a model folder must hold.
/// </remarks>
internal static class ModelLoader
{
    /// <summary>What a model folder holds.</summary>
    internal enum ModelFolderKind
    {
        /// <summary>Neither a bundle nor a checkpoint.</summary>
        Unknown,

        /// <summary>A vlm2vec ONNX bundle (<c>vlm2vec.json</c>).</summary>
        OnnxBundle,

        /// <summary>A Hugging Face checkpoint folder.</summary>
        HuggingFaceCheckpoint,
    }

    /// <summary>Opens the encoder of <paramref name="folder"/>.</summary>
    /// <exception cref="ModelFormatException">The folder is missing, not a model folder, or its engine is not available.</exception>
    public static IVlm2VecEncoder Open(string folder, CliEnvironment environment)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new ModelFormatException($"Model folder '{folder}' does not exist. Give a vlm2vec model bundle or a Hugging Face checkpoint folder (vlm2vec pull prints one).");
        }

        if (environment.OpenModel is { } open)
        {
            return open(folder);
        }

        return Detect(folder) switch
        {
            ModelFolderKind.OnnxBundle => OpenBundle(folder),
            ModelFolderKind.HuggingFaceCheckpoint => OpenCheckpoint(folder),
            _ => throw new ModelFormatException(
                $"'{folder}' is not a model folder: a vlm2vec model bundle has vlm2vec.json; a Hugging Face checkpoint has config.json with model.safetensors " +
                "(or a sharded index, pytorch_model.bin, or a PEFT adapter_config.json)."),
        };
    }

    /// <summary>What <paramref name="folder"/> holds, from its file names.</summary>
    public static ModelFolderKind Detect(string folder)
    {
        if (File.Exists(Path.Combine(folder, "vlm2vec.json")))
        {
            return ModelFolderKind.OnnxBundle;
        }

        if (File.Exists(Path.Combine(folder, "config.json")) || File.Exists(Path.Combine(folder, "adapter_config.json")))
        {
            var weights = Directory.EnumerateFiles(folder, "*.safetensors").Any()
                || File.Exists(Path.Combine(folder, "model.safetensors.index.json"))
                || File.Exists(Path.Combine(folder, "pytorch_model.bin"))
                || File.Exists(Path.Combine(folder, "pytorch_model.bin.index.json"))
                || File.Exists(Path.Combine(folder, "adapter_config.json"));
            if (weights)
            {
                return ModelFolderKind.HuggingFaceCheckpoint;
            }
        }

        return ModelFolderKind.Unknown;
    }

    // Wiring point for Vlm2Vec.OnnxRuntime: OnnxVlm2VecEncoder.FromBundle(folder).
    private static IVlm2VecEncoder OpenBundle(string folder) => throw new ModelFormatException(
        $"'{folder}' is a vlm2vec model bundle, but this build of vlm2vec has no ONNX Runtime engine yet (Vlm2Vec.OnnxRuntime is not part of the tool). " +
        "Use the library with OnnxVlm2VecEncoder, or a build of the tool that includes it.");

    // Wiring point for Vlm2Vec.TorchSharp: TorchSharpVlm2VecEncoder.FromPretrained(folder).
    private static IVlm2VecEncoder OpenCheckpoint(string folder) => throw new ModelFormatException(
        $"'{folder}' is a Hugging Face checkpoint, but this build of vlm2vec has no TorchSharp engine yet (Vlm2Vec.TorchSharp is not part of the tool). " +
        "Convert it to a model bundle, or use the library with TorchSharpVlm2VecEncoder.");
}
