using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>A vector property of a record type bound to a stored vector field.</summary>
internal sealed class VectorBinding
{
    public VectorBinding(VectorPropertyModel property, int schemaIndex)
    {
        Property = property;
        SchemaIndex = schemaIndex;
        Distance = VectorScoring.Parse(property.DistanceFunction, property.ModelName);
        var type = property.Type;
        Kind = type == typeof(float[]) ? VectorValueKind.FloatArray
            : type == typeof(Embedding<float>) ? VectorValueKind.Embedding
            : type == typeof(ReadOnlyMemory<float>) || type == typeof(ReadOnlyMemory<float>?) ? VectorValueKind.ReadOnlyMemory
            : VectorValueKind.Generated;
    }

    public VectorPropertyModel Property { get; }

    /// <summary>The stored vector field (and arena) index.</summary>
    public int SchemaIndex { get; }

    /// <summary>The distance function this record type searches with.</summary>
    public DistanceKind Distance { get; }

    public VectorValueKind Kind { get; }
}
