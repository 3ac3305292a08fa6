namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>How a record type holds a vector property.</summary>
internal enum VectorValueKind
{
    /// <summary><see cref="ReadOnlyMemory{T}"/> of float (or its nullable form).</summary>
    ReadOnlyMemory,

    /// <summary><c>float[]</c>.</summary>
    FloatArray,

    /// <summary><see cref="Microsoft.Extensions.AI.Embedding{T}"/> of float.</summary>
    Embedding,

    /// <summary>An input (string, content, …) embedded by a generator on upsert; the input itself is not stored.</summary>
    Generated,
}
