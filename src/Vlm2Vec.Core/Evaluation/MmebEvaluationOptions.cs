namespace Vlm2Vec.Evaluation;

/// <summary>Settings of an <see cref="MmebEvaluator"/>.</summary>
public sealed record MmebEvaluationOptions
{
    /// <summary>Also compute NDCG@5 (linear gain; the visual-document headline metric of MMEB-V2). Default off.</summary>
    public bool ComputeNdcg { get; init; }

    /// <summary>
    /// A folder for a persistent embedding cache (null: none). Entries are keyed by the model (id, engine, dtype,
    /// dimension, preprocessing settings), the side, the exact input string and the image file's content hash, so a
    /// rerun, or another dataset sharing inputs, embeds nothing twice. One file per model; safe to delete.
    /// </summary>
    public string? EmbeddingCacheFolder { get; init; }

    /// <summary>What to do when a query or candidate cannot be embedded (default: fail naming the dataset, line and field).</summary>
    public InvalidDataHandling EmbeddingFailures { get; init; } = InvalidDataHandling.Fail;

    /// <summary>Example hits and example misses kept per dataset for the reports (default 3 of each).</summary>
    public int ExamplesPerOutcome { get; init; } = 3;

    /// <summary>Inputs handed to the embedder at a time: progress and cancellation granularity (default 256).</summary>
    public int ChunkSize { get; init; } = 256;

    /// <summary>The row limit the data was loaded with, recorded in the settings (null: all rows).</summary>
    public int? RowLimit { get; init; }
}
