namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>Whether a data property holds one scalar, an array of scalars or a list of scalars.</summary>
internal enum DataFieldShape
{
    /// <summary>One value.</summary>
    Scalar,

    /// <summary>A <c>T[]</c>.</summary>
    Array,

    /// <summary>A <see cref="List{T}"/> (also read into <see cref="IList{T}"/> and <see cref="IReadOnlyList{T}"/> properties).</summary>
    List,
}
