using System.Text.Json;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.ML.Tests.Support;

/// <summary>
/// Opens <see cref="HashingEncoder"/> model folders. Public with a parameterless constructor, so a saved ML.NET model
/// records it and recreates it on load like a real engine; it counts the models it opened.
/// </summary>
public sealed class HashingEncoderFactory : IVlm2VecEncoderFactory
{
    public const string SettingsFile = "hashing-encoder.json";
    private static int s_opened;

    /// <summary>Models opened by any instance, process-wide.</summary>
    public static int Opened => Volatile.Read(ref s_opened);

    /// <summary>The last encoder opened, for call counting.</summary>
    public static HashingEncoder? LastOpened { get; private set; }

    public string Engine => "hashing";

    public bool CanOpen(string modelPath) => File.Exists(Path.Combine(modelPath, SettingsFile));

    public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options)
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(options.ModelPath, SettingsFile)));
        var dimension = settings.RootElement.GetProperty("dimension").GetInt32();
        var encoder = new HashingEncoder(Vlm2VecPreprocessor.FromFolder(options.ModelPath, options.Preprocessing), dimension, options.ModelPath);
        Interlocked.Increment(ref s_opened);
        LastOpened = encoder;
        return encoder;
    }
}
