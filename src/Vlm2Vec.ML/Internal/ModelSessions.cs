using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Vlm2Vec.ML;

/// <summary>
/// The process-wide set of open models. Every transformer and every reloaded model that names the same model folder,
/// engine, device and preprocessing shares one encoder (models are large; ONNX Runtime sessions and the TorchSharp
/// model are thread-safe). Models opened from a path stay open for the life of the process (a reloaded ML.NET model
/// has no dispose hook); <see cref="Release"/> closes one explicitly.
/// </summary>
internal static class ModelSessions
{
    private static readonly ConcurrentDictionary<string, Lazy<IVlm2VecEncoder>> Opened = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, WeakReference<IVlm2VecEncoder>> Instances = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Vlm2VecEmbedder> Embedders = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> KeyPaths = new(StringComparer.Ordinal);
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IVlm2VecEncoder, string> InstanceKeys = new();

    /// <summary>Registers an encoder object (weakly: the transformer holds it) and returns its key.</summary>
    public static string RegisterInstance(IVlm2VecEncoder encoder)
    {
        var key = InstanceKeys.GetValue(encoder, _ => Guid.NewGuid().ToString("N"));
        Instances[key] = new WeakReference<IVlm2VecEncoder>(encoder);
        return key;
    }

    /// <summary>The encoder of a spec, opening the model on first use.</summary>
    /// <exception cref="InvalidOperationException">The encoder object is gone, or the engine cannot be found.</exception>
    public static IVlm2VecEncoder Encoder(EmbeddingSpec spec, IVlm2VecEncoderFactory? factory = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        if (spec.EncoderInstanceKey is { } instanceKey)
        {
            return Instances.TryGetValue(instanceKey, out var weak) && weak.TryGetTarget(out var encoder)
                ? encoder
                : throw new InvalidOperationException(
                    "The encoder object this Vlm2Vec transformer was built over is no longer alive; build the transformer again.");
        }

        var key = spec.ModelKey;
        KeyPaths[key] = spec.ModelPath!;
        var lazy = Opened.GetOrAdd(key, _ => new Lazy<IVlm2VecEncoder>(() => Open(spec, factory, loggerFactory), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // Do not cache the failure: a later call (after the user fixed the folder) tries again.
            Opened.TryRemove(new KeyValuePair<string, Lazy<IVlm2VecEncoder>>(key, lazy));
            throw;
        }
    }

    /// <summary>The embedder (batching settings over the encoder) of a spec.</summary>
    public static Vlm2VecEmbedder Embedder(EmbeddingSpec spec, IVlm2VecEncoderFactory? factory = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        var encoder = Encoder(spec, factory, loggerFactory);
        var key = spec.ModelKey + "|" + System.Text.Json.JsonSerializer.Serialize(spec.Batching);
        var embedder = Embedders.GetOrAdd(key, _ => new Vlm2VecEmbedder(encoder, spec.Batching, loggerFactory?.CreateLogger(HostLoggerFactory.EmbedderCategory)));
        if (!ReferenceEquals(embedder.Encoder, encoder))
        {
            // The model was released and opened again since this embedder was made.
            embedder = new Vlm2VecEmbedder(encoder, spec.Batching, loggerFactory?.CreateLogger(HostLoggerFactory.EmbedderCategory));
            Embedders[key] = embedder;
        }

        return embedder;
    }

    /// <summary>Closes the model a spec opened from a path (no-op for encoder objects, which their owner disposes).</summary>
    public static bool Release(EmbeddingSpec spec) => spec.EncoderInstanceKey is null && ReleaseKey(spec.ModelKey);

    private static bool ReleaseKey(string key)
    {
        KeyPaths.TryRemove(key, out _);
        if (!Opened.TryRemove(key, out var lazy))
        {
            return false;
        }

        foreach (var embedderKey in Embedders.Keys)
        {
            if (embedderKey.StartsWith(key + "|", StringComparison.Ordinal))
            {
                Embedders.TryRemove(embedderKey, out _);
            }
        }

        if (lazy.IsValueCreated)
        {
            lazy.Value.Dispose();
        }

        return true;
    }

    /// <summary>Closes every model opened from <paramref name="modelPath"/> (any engine or settings); returns how many.</summary>
    public static int ReleaseFolder(string modelPath)
    {
        var full = Path.GetFullPath(modelPath);
        var released = 0;
        foreach (var (key, path) in KeyPaths)
        {
            if (string.Equals(path, full, StringComparison.Ordinal) && ReleaseKey(key))
            {
                released++;
            }
        }

        return released;
    }

    private static IVlm2VecEncoder Open(EmbeddingSpec spec, IVlm2VecEncoderFactory? factory, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory)
    {
        if (spec.ModelPath is null || spec.EncoderFactoryType is null)
        {
            throw new InvalidOperationException("The Vlm2Vec settings name no model folder and no engine.");
        }

        factory ??= EncoderFactoryResolver.Create(spec.EncoderFactoryType);
        var options = new Vlm2VecEncoderOptions { ModelPath = spec.ModelPath, Device = spec.Device, Preprocessing = spec.Preprocessing, LoggerFactory = loggerFactory };
        IVlm2VecEncoder encoder;
        try
        {
            encoder = factory.Create(options);
        }
        catch (NotSupportedException ex) when (spec.FallbackToCpu && spec.Device is not null && !spec.Device.Equals("cpu", StringComparison.OrdinalIgnoreCase))
        {
            loggerFactory?.CreateLogger("Vlm2Vec.ML").LogWarning("The {Engine} engine cannot use device '{Device}' ({Reason}); MLContext.FallbackToCpu is set, so the model runs on the CPU.", factory.Engine, spec.Device, ex.Message);
            encoder = factory.Create(options with { Device = "cpu" });
        }

        if (spec.Dimension != 0 && encoder.Info.Dimension != spec.Dimension)
        {
            var found = encoder.Info.Dimension;
            encoder.Dispose();
            throw new ModelFormatException(
                $"The model at '{spec.ModelPath}' now has embedding dimension {found}, but this ML.NET model was built for {spec.Dimension}: " +
                "the folder was replaced by another model. Fit the pipeline again.");
        }

        return encoder;
    }
}
