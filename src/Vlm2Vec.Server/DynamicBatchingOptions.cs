namespace Vlm2Vec.Server;

/// <summary>
/// How the server's dynamic batcher coalesces the inputs of concurrent requests into encoder batches: a batch closes when
/// it reaches a budget (rows, padded tokens, image patches) or when its first input has waited <see cref="MaxWait"/>.
/// </summary>
public sealed record DynamicBatchingOptions
{
    /// <summary>Most rows per encoder batch (default 32).</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>Most padded token cells per batch, rows × longest row (default 16,384). A longer input runs alone.</summary>
    public int MaxBatchTokens { get; init; } = 16_384;

    /// <summary>Most image patch rows per batch (default 32,768; a 980×980 image has 4,900). A larger input runs alone.</summary>
    public int MaxBatchPatches { get; init; } = 32_768;

    /// <summary>
    /// Longest time the first input of a batch waits for companions while the encoder is free (default 2 ms). Inputs that
    /// queued while the encoder was busy do not wait again.
    /// </summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Encoder batches run at once (default 1: one batch uses the whole GPU or every CPU core).</summary>
    public int MaxConcurrentBatches { get; init; } = 1;

    /// <summary>Inputs of one request preprocessed at once (decode, resize, tokenise); default: the processor count.</summary>
    public int PreprocessingParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is not positive, or the wait is negative.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchSize, 1, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchTokens, 1, nameof(MaxBatchTokens));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchPatches, 1, nameof(MaxBatchPatches));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrentBatches, 1, nameof(MaxConcurrentBatches));
        ArgumentOutOfRangeException.ThrowIfLessThan(PreprocessingParallelism, 1, nameof(PreprocessingParallelism));
        if (MaxWait < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWait), $"MaxWait must not be negative, not {MaxWait}.");
        }
    }
}
