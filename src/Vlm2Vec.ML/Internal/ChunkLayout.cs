namespace Vlm2Vec.ML;

/// <summary>
/// Why chunks: the saved form's embedding step is a <c>CustomMapping</c>, whose output column types come from
/// compile-time attributes, so it cannot declare a <c>Vector&lt;Single, D&gt;</c> for a D known only when the model is
/// opened (and ML.NET trainers reject variable-size feature vectors). It declares one fixed-size column per power of two
/// instead (<see cref="EmbeddingChunks"/>); the saved model concatenates those of D's binary expansion, largest first,
/// which gives a column of exactly D values. Any D up to <see cref="MaxDimension"/> works.
/// </summary>
internal static class ChunkLayout
{
    public const int LargestChunk = 16384;
    public const int MaxDimension = (LargestChunk * 2) - 1;

    /// <summary>The chunk sizes whose concatenation, in this order, is a vector of <paramref name="dimension"/> values.</summary>
    /// <exception cref="NotSupportedException">The dimension is outside 1..<see cref="MaxDimension"/>.</exception>
    public static int[] For(int dimension)
    {
        if (dimension < 1 || dimension > MaxDimension)
        {
            throw new NotSupportedException($"Embedding dimension {dimension} is not supported by Vlm2Vec.ML (1 to {MaxDimension}).");
        }

        var sizes = new List<int>();
        for (var size = LargestChunk; size >= 1; size >>= 1)
        {
            if ((dimension & size) != 0)
            {
                sizes.Add(size);
            }
        }

        return [.. sizes];
    }
}
