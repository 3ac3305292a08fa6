using System.Numerics.Tensors;
using Microsoft.Extensions.VectorData;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// Scores one stored vector against a query with <see cref="TensorPrimitives"/>. Cosine uses the stored vector's norm,
/// computed once at insert, so it costs one dot product per row; a zero vector has cosine similarity 0.
/// </summary>
internal static class VectorScoring
{
    /// <summary>Maps a distance-function name (null: cosine similarity) to its kind.</summary>
    /// <exception cref="NotSupportedException">The name is not one the store evaluates.</exception>
    public static DistanceKind Parse(string? distanceFunction, string propertyName) => distanceFunction switch
    {
        null or DistanceFunction.CosineSimilarity => DistanceKind.CosineSimilarity,
        DistanceFunction.CosineDistance => DistanceKind.CosineDistance,
        DistanceFunction.DotProductSimilarity => DistanceKind.DotProductSimilarity,
        DistanceFunction.NegativeDotProductSimilarity => DistanceKind.NegativeDotProductSimilarity,
        DistanceFunction.EuclideanDistance => DistanceKind.EuclideanDistance,
        DistanceFunction.EuclideanSquaredDistance => DistanceKind.EuclideanSquaredDistance,
        DistanceFunction.ManhattanDistance => DistanceKind.ManhattanDistance,
        DistanceFunction.HammingDistance => DistanceKind.HammingDistance,
        _ => throw new NotSupportedException(
            $"Vector property '{propertyName}' asks for distance function '{distanceFunction}', which the Vlm2Vec store does not support. " +
            $"Supported: {DistanceFunction.CosineSimilarity}, {DistanceFunction.CosineDistance}, {DistanceFunction.DotProductSimilarity}, " +
            $"{DistanceFunction.NegativeDotProductSimilarity}, {DistanceFunction.EuclideanDistance}, {DistanceFunction.EuclideanSquaredDistance}, " +
            $"{DistanceFunction.ManhattanDistance}, {DistanceFunction.HammingDistance}."),
    };

    /// <summary>True when a higher score means closer (similarities); false for distances.</summary>
    public static bool HigherIsCloser(DistanceKind kind) =>
        kind is DistanceKind.CosineSimilarity or DistanceKind.DotProductSimilarity;

    /// <summary>
    /// The score of <paramref name="stored"/> against <paramref name="query"/>. <paramref name="queryNorm"/> and
    /// <paramref name="storedNorm"/> are the L2 norms (only cosine reads them); <paramref name="scratch"/> has the
    /// query's length (only Manhattan writes it).
    /// </summary>
    public static float Score(DistanceKind kind, ReadOnlySpan<float> query, float queryNorm, ReadOnlySpan<float> stored, float storedNorm, Span<float> scratch)
    {
        switch (kind)
        {
            case DistanceKind.CosineSimilarity:
                return Cosine(query, queryNorm, stored, storedNorm);
            case DistanceKind.CosineDistance:
                return 1f - Cosine(query, queryNorm, stored, storedNorm);
            case DistanceKind.DotProductSimilarity:
                return TensorPrimitives.Dot(query, stored);
            case DistanceKind.NegativeDotProductSimilarity:
                return -TensorPrimitives.Dot(query, stored);
            case DistanceKind.EuclideanDistance:
                return TensorPrimitives.Distance(query, stored);
            case DistanceKind.EuclideanSquaredDistance:
                var distance = TensorPrimitives.Distance(query, stored);
                return distance * distance;
            case DistanceKind.ManhattanDistance:
                TensorPrimitives.Subtract(query, stored, scratch);
                return TensorPrimitives.SumOfMagnitudes(scratch);
            default:
                return Hamming(query, stored);
        }
    }

    private static float Cosine(ReadOnlySpan<float> query, float queryNorm, ReadOnlySpan<float> stored, float storedNorm)
    {
        var denominator = queryNorm * storedNorm;
        return denominator > 0f ? TensorPrimitives.Dot(query, stored) / denominator : 0f;
    }

    // Hand-written: TensorPrimitives has no element-wise "count of differences" for floats, and Hamming distance on
    // float vectors is a rarity kept only for conformance with the distance-function list.
    private static float Hamming(ReadOnlySpan<float> query, ReadOnlySpan<float> stored)
    {
        var count = 0;
        for (var i = 0; i < query.Length; i++)
        {
            if (query[i] != stored[i])
            {
                count++;
            }
        }

        return count;
    }
}
