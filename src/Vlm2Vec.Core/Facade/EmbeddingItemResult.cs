namespace Vlm2Vec;

/// <summary>The outcome for one input of <see cref="Vlm2VecEmbedder.EmbedEachAsync"/>: its embedding or its error.</summary>
public sealed class EmbeddingItemResult
{
    private EmbeddingItemResult(int index, float[]? embedding, BatchItemException? error)
    {
        Index = index;
        Embedding = embedding;
        Error = error;
    }

    /// <summary>The input's position in the caller's list.</summary>
    public int Index { get; }

    /// <summary>The L2-normalised embedding, or null when the input failed.</summary>
    public float[]? Embedding { get; }

    /// <summary>Why the input failed (the cause is <see cref="Exception.InnerException"/>), or null.</summary>
    public BatchItemException? Error { get; }

    /// <summary>Whether the input was embedded.</summary>
    public bool Succeeded => Error is null;

    internal static EmbeddingItemResult Success(int index, float[] embedding) => new(index, embedding, null);

    internal static EmbeddingItemResult Failure(BatchItemException error) => new(error.ItemIndex, null, error);
}
