namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>A vector field of a stored collection: its storage name and number of dimensions.</summary>
/// <param name="Name">The storage name.</param>
/// <param name="Dimensions">The number of float32 components.</param>
internal sealed record VectorFieldSchema(string Name, int Dimensions);
