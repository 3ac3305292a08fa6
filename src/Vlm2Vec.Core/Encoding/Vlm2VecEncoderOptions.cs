using Microsoft.Extensions.Logging;

namespace Vlm2Vec;

/// <summary>What an <see cref="IVlm2VecEncoderFactory"/> is asked to open, and how.</summary>
public sealed record Vlm2VecEncoderOptions
{
    /// <summary>The model's folder (a bundle or a checkpoint) or file, as the engine expects it.</summary>
    public required string ModelPath { get; init; }

    /// <summary>
    /// The device, in the engine's words (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>, …); null lets the engine choose.
    /// </summary>
    public string? Device { get; init; }

    /// <summary>The preprocessing settings the encoder's <see cref="IVlm2VecEncoder.Preprocessor"/> is built with.</summary>
    public PreprocessorOptions Preprocessing { get; init; } = new();

    /// <summary>Where the encoder and its preprocessing log; none when null.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
