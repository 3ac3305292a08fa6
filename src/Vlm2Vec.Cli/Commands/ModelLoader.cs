using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// Opens a <c>--model</c> folder with the first <see cref="IVlm2VecEncoderFactory"/> whose <c>CanOpen</c> accepts it: a
/// vlm2vec model bundle (<c>vlm2vec.json</c>) with the ONNX Runtime engine, a Hugging Face checkpoint with the TorchSharp
/// engine. The engines are not compile-time dependencies of the tool (TorchSharp alone brings ≈600 MB of libtorch): their
/// factories are discovered in the <c>Vlm2Vec.*.dll</c> assemblies beside it, or given by
/// <see cref="CliEnvironment.EncoderFactories"/>. When none can open a folder, the error says what the folder looks like
/// and which engines are present.
/// </summary>
internal static class ModelLoader
{
    private static readonly Lazy<IReadOnlyList<IVlm2VecEncoderFactory>> Discovered = new(() => DiscoverFactories(AppContext.BaseDirectory));

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

        var factories = environment.EncoderFactories ?? Discovered.Value;
        foreach (var factory in factories)
        {
            if (factory.CanOpen(folder))
            {
                return factory.Create(new Vlm2VecEncoderOptions { ModelPath = folder, LoggerFactory = loggerFactory });
            }
        }

        var engines = factories.Count == 0 ? "none" : string.Join(", ", factories.Select(f => f.Engine));
        throw Detect(folder) switch
        {
            ModelFolderKind.OnnxBundle => new ModelFormatException(
                $"'{folder}' is a vlm2vec model bundle, but no engine beside the tool can open it (engines present: {engines}). " +
                "It needs the ONNX Runtime engine (Vlm2Vec.OnnxRuntime), which this build of vlm2vec does not include."),
            ModelFolderKind.HuggingFaceCheckpoint => new ModelFormatException(
                $"'{folder}' is a Hugging Face checkpoint, but no engine beside the tool can open it (engines present: {engines}). " +
                "It needs the TorchSharp engine (Vlm2Vec.TorchSharp), which this build of vlm2vec does not include; or convert it to a model bundle."),
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

    /// <summary>
    /// The public <see cref="IVlm2VecEncoderFactory"/> types of the <c>Vlm2Vec.*.dll</c> assemblies in
    /// <paramref name="folder"/> that can be made without arguments (every constructor parameter optional), in assembly
    /// name order. Assemblies that cannot be loaded, or whose dependencies are missing, are skipped.
    /// </summary>
    internal static IReadOnlyList<IVlm2VecEncoderFactory> DiscoverFactories(string folder)
    {
        var factories = new List<IVlm2VecEncoderFactory>();
        if (!Directory.Exists(folder))
        {
            return factories;
        }

        var core = typeof(IVlm2VecEncoderFactory).Assembly.GetName().Name;
        foreach (var path in Directory.EnumerateFiles(folder, "Vlm2Vec.*.dll").Order(StringComparer.Ordinal))
        {
            if (string.Equals(Path.GetFileNameWithoutExtension(path), core, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                foreach (var type in Assembly.LoadFrom(path).GetExportedTypes())
                {
                    if (type is { IsClass: true, IsAbstract: false } && typeof(IVlm2VecEncoderFactory).IsAssignableFrom(type)
                        && type.GetConstructors().FirstOrDefault(c => c.GetParameters().All(p => p.IsOptional)) is { } constructor)
                    {
                        factories.Add((IVlm2VecEncoderFactory)constructor.Invoke(constructor.GetParameters().Select(p => p.DefaultValue).ToArray()));
                    }
                }
            }
            catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or FileNotFoundException or TypeLoadException or TargetInvocationException)
            {
                // Not a loadable engine assembly (or one whose dependencies are missing): skip it.
            }
        }

        return factories;
    }
}
