namespace Vlm2Vec.Evaluation;

/// <summary>The settings an evaluation ran with, recorded in its result and in <c>scores.json</c>.</summary>
public sealed record MmebEvaluationSettings
{
    /// <summary>Whether NDCG@5 was computed.</summary>
    public bool ComputeNdcg { get; init; }

    /// <summary>The persistent embedding cache folder, or null.</summary>
    public string? EmbeddingCacheFolder { get; init; }

    /// <summary>What happened to rows whose inputs could not be embedded.</summary>
    public InvalidDataHandling EmbeddingFailures { get; init; }

    /// <summary>The embedder's batch limits.</summary>
    public int MaxBatchSize { get; init; }

    /// <summary>The embedder's padded-token budget per batch.</summary>
    public int MaxBatchTokens { get; init; }

    /// <summary>The prompt style of the model's preprocessor (MMEB rows are used verbatim either way).</summary>
    public PromptStyle PromptStyle { get; init; }

    /// <summary>The image placeholder MMEB's <c>&lt;|image_1|&gt;</c> was replaced with.</summary>
    public string? ImagePlaceholder { get; init; }

    /// <summary>The row limit per dataset, or null for all rows.</summary>
    public int? RowLimit { get; init; }
}
