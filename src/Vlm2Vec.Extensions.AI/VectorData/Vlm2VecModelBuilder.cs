using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// Builds and validates collection models for the Vlm2Vec store: string/Guid/int/long keys (Guid auto-generated), the
/// data types of <see cref="DataFieldType"/>, float32 vectors (<see cref="ReadOnlyMemory{T}"/>, <c>float[]</c>,
/// <see cref="Embedding{T}"/>) or input-typed vectors with an embedding generator, exact (flat) search with any of the
/// distance functions that make sense on float vectors.
/// </summary>
internal sealed class Vlm2VecModelBuilder() : CollectionModelBuilder(BuildingOptions)
{
    /// <summary>The native vector types, for error messages.</summary>
    internal const string SupportedVectorTypes = "ReadOnlyMemory<float>, float[], Embedding<float>";

    private static readonly CollectionModelBuildingOptions BuildingOptions = new()
    {
        RequiresAtLeastOneVector = false,
        SupportsMultipleVectors = true,
    };

    /// <summary>Whether <paramref name="type"/> is a native (stored as given) vector type.</summary>
    internal static bool IsNativeVectorType(Type type) =>
        type == typeof(ReadOnlyMemory<float>)
        || type == typeof(ReadOnlyMemory<float>?)
        || type == typeof(float[])
        || type == typeof(Embedding<float>);

    protected override bool IsDataPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = DataFieldType.SupportedTypesDescription;
        return DataFieldType.TryResolve(type, out _);
    }

    protected override bool IsVectorPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = SupportedVectorTypes;
        return IsNativeVectorType(type);
    }

    protected override void ValidateKeyProperty(KeyPropertyModel keyProperty)
    {
        base.ValidateKeyProperty(keyProperty);
        var type = keyProperty.Type;
        if (type != typeof(string) && type != typeof(Guid) && type != typeof(int) && type != typeof(long))
        {
            throw new NotSupportedException(
                $"Key property '{keyProperty.ModelName}' has type '{type.Name}'; the Vlm2Vec store supports string, Guid, int and long keys.");
        }
    }

    protected override void ValidateProperty(PropertyModel propertyModel, VectorStoreCollectionDefinition? definition)
    {
        base.ValidateProperty(propertyModel, definition);
        if (propertyModel is VectorPropertyModel vector)
        {
            _ = VectorScoring.Parse(vector.DistanceFunction, vector.ModelName);
            if (vector.IndexKind is not null && vector.IndexKind != IndexKind.Flat)
            {
                throw new NotSupportedException(
                    $"Vector property '{vector.ModelName}' asks for index kind '{vector.IndexKind}'; the Vlm2Vec store searches exactly and supports only '{IndexKind.Flat}' (or no index kind).");
            }
        }
    }
}
