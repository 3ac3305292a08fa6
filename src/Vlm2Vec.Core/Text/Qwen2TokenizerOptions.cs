namespace Vlm2Vec.Preprocessing;

/// <summary>Settings of a <see cref="Qwen2Tokenizer"/> that do not come from the tokenizer files.</summary>
public sealed class Qwen2TokenizerOptions
{
    /// <summary>The default <see cref="MergeCacheCapacity"/>.</summary>
    public const int DefaultMergeCacheCapacity = 50_000;

    /// <summary>
    /// How many distinct pre-tokens (words with their leading space, numbers, punctuation runs of up to 128 chars) the BPE
    /// merge cache keeps, so a repeated word costs one lookup. Once full, new words are merged without being added
    /// (about 100–200 bytes each). 0 disables the cache. Default 50,000.
    /// </summary>
    public int MergeCacheCapacity { get; init; } = DefaultMergeCacheCapacity;
}
