using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// A collection of a <see cref="Vlm2VecVectorStore"/> whose records are <see cref="Dictionary{TKey, TValue}"/> of
/// property name → value, shaped by a <see cref="Microsoft.Extensions.VectorData.VectorStoreCollectionDefinition"/>.
/// It shares storage with typed collections of the same name. Obtain one from
/// <see cref="Vlm2VecVectorStore.GetDynamicCollection(string, Microsoft.Extensions.VectorData.VectorStoreCollectionDefinition)"/>.
/// </summary>
public sealed class Vlm2VecVectorStoreDynamicCollection : Vlm2VecVectorStoreCollection<object, Dictionary<string, object?>>
{
    internal Vlm2VecVectorStoreDynamicCollection(Vlm2VecVectorStore store, VectorDatabase database, string name, CollectionModel model)
        : base(store, database, name, model)
    {
    }
}
