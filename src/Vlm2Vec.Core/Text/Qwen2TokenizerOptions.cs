namespace Vlm2Vec.Preprocessing;

/// <summary>Settings of a <see cref="Qwen2Tokenizer"/> that do not come from the tokenizer files.</summary>
public sealed class Qwen2TokenizerOptions
{
    /// <summary>The default <see cref="MergeCacheCapacity"/>.</summary>
    public const int DefaultMergeCacheCapacity = 50_000;

    /// <summary>
    /// How many distinct pre-tokens (words with their leading space, numbers, punctuation runs of up to 128 chars) the BPE
    /// merge cache keeps, so a repeated word costs one lookup; each costs about 100–200 bytes. Once full, new words are
    /// merged without being added. 0 disables the cache. Default 50,000.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MergeCacheCapacity
    {
        get => _mergeCacheCapacity;
        init => _mergeCacheCapacity = value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MergeCacheCapacity), value, "The merge cache capacity must be 0 (no cache) or more.");
    }

    private readonly int _mergeCacheCapacity = DefaultMergeCacheCapacity;
}
