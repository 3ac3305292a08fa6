using System.Text.Json;
using Microsoft.Extensions.Logging;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.ML.Tests.Support;

/// <summary>
/// Opens <see cref="HashingEncoder"/> model folders. Public with a parameterless constructor, so a saved ML.NET model
/// records it and recreates it on load like a real engine; it counts the models it opened.
/// </summary>
public sealed class HashingEncoderFactory : IVlm2VecEncoderFactory
{
    public const string SettingsFile = "hashing-encoder.json";
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, HashingEncoder> ByFolder = new(StringComparer.Ordinal);

    /// <summary>The encoder last opened from a folder, for call counting (tests run in parallel, each with its folder).</summary>
    public static HashingEncoder OpenedAt(string folder) => ByFolder[Path.GetFullPath(folder)];

    /// <summary>How many times a folder was opened.</summary>
    public static int OpenCount(string folder) => OpenCounts.GetValueOrDefault(Path.GetFullPath(folder));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> OpenCounts = new(StringComparer.Ordinal);

    public string Engine => "hashing";

    public bool CanOpen(string modelPath) => File.Exists(Path.Combine(modelPath, SettingsFile));

    public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options)
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(options.ModelPath, SettingsFile)));
        var dimension = settings.RootElement.GetProperty("dimension").GetInt32();
        var encoder = new HashingEncoder(Vlm2VecPreprocessor.FromFolder(options.ModelPath, options.Preprocessing, options.LoggerFactory?.CreateLogger("preprocessing")), dimension, options.ModelPath);
        var key = Path.GetFullPath(options.ModelPath);
        ByFolder[key] = encoder;
        OpenCounts.AddOrUpdate(key, 1, (_, n) => n + 1);
        return encoder;
    }
}
