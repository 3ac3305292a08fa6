using Microsoft.Extensions.VectorData;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// Options of a collection of a <see cref="Vlm2VecVectorStore"/>: the record definition (overrides attributes; needed
/// for custom vector input types such as <c>VectorStoreVectorProperty&lt;AIContent&gt;</c> and for dynamic collections)
/// and an embedding generator that takes precedence over the store's.
/// </summary>
public sealed class Vlm2VecVectorStoreCollectionOptions : VectorStoreCollectionOptions
{
    /// <summary>Creates empty options.</summary>
    public Vlm2VecVectorStoreCollectionOptions()
    {
    }

    /// <summary>Copies <paramref name="source"/>.</summary>
    public Vlm2VecVectorStoreCollectionOptions(Vlm2VecVectorStoreCollectionOptions source)
        : base(source)
    {
    }
}
