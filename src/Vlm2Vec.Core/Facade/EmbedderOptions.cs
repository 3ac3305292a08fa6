namespace Vlm2Vec;

/// <summary>Settings of a <see cref="Vlm2VecEmbedder"/>: how inputs are grouped into encoder batches.</summary>
public sealed record EmbedderOptions
{
    /// <summary>Most rows per encoder batch (default 16).</summary>
    public int MaxBatchSize { get; init; } = 16;

    /// <summary>
    /// Most padded token cells per encoder batch, rows × longest row (default 16,384). A single input longer than this
    /// still runs, alone.
    /// </summary>
    public int MaxBatchTokens { get; init; } = 16_384;

    /// <summary>
    /// Most image patch rows per encoder batch over all its images (default 32,768; a 980×980 image has 4,900). A single
    /// input with more still runs, alone.
    /// </summary>
    public int MaxBatchPatches { get; init; } = 32_768;

    /// <summary>Inputs preprocessed at once (decode, resize, tokenise); default: the processor count.</summary>
    public int MaxPreprocessingParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Inputs preprocessed and length-sorted together before they are batched (default 64). Larger windows cut more
    /// padding but hold more decoded images in memory; inputs are never reordered across windows.
    /// </summary>
    public int SortWindow { get; init; } = 64;

    /// <summary>Whether to sort each window by length so batches hold similar lengths (default true).</summary>
    public bool SortByLength { get; init; } = true;
}
