namespace Vlm2Vec;

/// <summary>How <see cref="Vlm2VecBundle.Open"/> checks a bundle.</summary>
public sealed class Vlm2VecBundleOpenOptions
{
    /// <summary>
    /// Files up to this size have their SHA-256 checked on every open (graphs, configs, tokenizer: milliseconds). Larger
    /// files (the external weight data) are checked by size only unless <see cref="VerifyAllDigests"/> is set: a truncated
    /// file is always caught, a same-size corruption only by the full check. Default 64 MiB.
    /// </summary>
    public long DigestSizeLimitBytes { get; init; } = 64L << 20;

    /// <summary>Check the SHA-256 of every file, weights included (reads the whole bundle once; seconds per GB).</summary>
    public bool VerifyAllDigests { get; init; }
}
