namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>The distance functions the store evaluates (the names of <see cref="Microsoft.Extensions.VectorData.DistanceFunction"/>).</summary>
internal enum DistanceKind
{
    /// <summary>cos(q, v); higher is closer. The default.</summary>
    CosineSimilarity,

    /// <summary>1 − cos(q, v); lower is closer.</summary>
    CosineDistance,

    /// <summary>q · v; higher is closer.</summary>
    DotProductSimilarity,

    /// <summary>−(q · v); lower is closer.</summary>
    NegativeDotProductSimilarity,

    /// <summary>‖q − v‖₂; lower is closer.</summary>
    EuclideanDistance,

    /// <summary>‖q − v‖₂²; lower is closer.</summary>
    EuclideanSquaredDistance,

    /// <summary>‖q − v‖₁; lower is closer.</summary>
    ManhattanDistance,

    /// <summary>The number of components that differ; lower is closer.</summary>
    HammingDistance,
}
