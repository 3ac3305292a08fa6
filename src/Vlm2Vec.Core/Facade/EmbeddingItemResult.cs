namespace Vlm2Vec;

/// <summary>The outcome for one input of <see cref="Vlm2VecEmbedder.EmbedEachAsync"/>: its embedding or its error.</summary>
public sealed class EmbeddingItemResult
{
    private EmbeddingItemResult(int index, float[]? embedding, int tokenCount, BatchItemException? error)
    {
        Index = index;
        Embedding = embedding;
        TokenCount = tokenCount;
        Error = error;
    }

    /// <summary>The input's position in the caller's list.</summary>
    public int Index { get; }

    /// <summary>The L2-normalised embedding, or null when the input failed.</summary>
    public float[]? Embedding { get; }

    /// <summary>
    /// The tokens the encoder saw for the input (prompt tokens with every image placeholder expanded to its image
    /// tokens, after any truncation); 0 when the input failed.
    /// </summary>
    public int TokenCount { get; }

    /// <summary>Why the input failed (the cause is <see cref="Exception.InnerException"/>), or null.</summary>
    public BatchItemException? Error { get; }

    /// <summary>Whether the input was embedded.</summary>
    public bool Succeeded => Error is null;

    internal static EmbeddingItemResult Success(int index, float[] embedding, int tokenCount) => new(index, embedding, tokenCount, null);

    internal static EmbeddingItemResult Failure(BatchItemException error) => new(error.ItemIndex, null, 0, error);
}
