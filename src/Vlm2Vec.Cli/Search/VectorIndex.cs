using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Cli.Search;

/// <summary>
/// A collection of <see cref="IndexedItem"/>s in a <see cref="Vlm2VecVectorStore"/> file, with its
/// <see cref="IndexManifest"/> (the model that built it). Opening checks that the given model is the one that built the
/// collection (same model id and dimension); vectors of different models are not comparable.
/// </summary>
internal sealed class VectorIndex : IDisposable
{
    /// <summary>The key of the one manifest record.</summary>
    public const string ManifestKey = "index";

    /// <summary>The collection <c>vlm2vec index</c> and <c>search</c> use when none is named.</summary>
    public const string DefaultCollection = "files";

    private readonly Vlm2VecVectorStore _store;
    private readonly Vlm2VecVectorStoreCollection<string, IndexManifest> _manifests;

    private VectorIndex(Vlm2VecVectorStore store, string collectionName, Vlm2VecVectorStoreCollection<string, IndexedItem> items, Vlm2VecVectorStoreCollection<string, IndexManifest> manifests)
    {
        _store = store;
        CollectionName = collectionName;
        Items = items;
        _manifests = manifests;
    }

    /// <summary>The collection's name.</summary>
    public string CollectionName { get; }

    /// <summary>The indexed files.</summary>
    public Vlm2VecVectorStoreCollection<string, IndexedItem> Items { get; }

    /// <summary>
    /// Opens <paramref name="collection"/> of the store file <paramref name="storePath"/> for <paramref name="model"/>.
    /// With <paramref name="create"/> the file and collection are made when missing; otherwise both must exist.
    /// </summary>
    /// <exception cref="InvalidInputException">The store or collection is missing.</exception>
    /// <exception cref="IndexModelMismatchException">The collection was built with another model.</exception>
    public static async Task<VectorIndex> OpenAsync(string storePath, string collection, Vlm2VecModelInfo model, bool create, ILoggerFactory? loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(storePath);
        ArgumentException.ThrowIfNullOrEmpty(collection);
        if (!create && !File.Exists(storePath))
        {
            throw new InvalidInputException($"Vector store '{storePath}' does not exist. Build it first: vlm2vec index --model <folder> --source <folder> --store {storePath}.");
        }

        if (create && Path.GetDirectoryName(Path.GetFullPath(storePath)) is { } parent)
        {
            Directory.CreateDirectory(parent);
        }

        var store = new Vlm2VecVectorStore(new Vlm2VecVectorStoreOptions { DatabasePath = storePath, LoggerFactory = loggerFactory });
        try
        {
            var manifests = store.GetCollection<string, IndexManifest>(collection + "__index", ManifestDefinition());
            IndexManifest? manifest = null;
            if (await manifests.CollectionExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                manifest = await manifests.GetAsync(ManifestKey, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            if (manifest is null && !create)
            {
                var names = new List<string>();
                await foreach (var name in store.ListCollectionNamesAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!name.EndsWith("__index", StringComparison.Ordinal))
                    {
                        names.Add(name);
                    }
                }

                throw new InvalidInputException(
                    $"Vector store '{storePath}' has no collection '{collection}' built by vlm2vec index " +
                    $"(collections: {(names.Count == 0 ? "none" : string.Join(", ", names))}). Give --collection, or build it with vlm2vec index.");
            }

            if (manifest is not null && (!string.Equals(manifest.ModelId, model.ModelId, StringComparison.Ordinal) || manifest.Dimension != model.Dimension))
            {
                throw new IndexModelMismatchException(
                    $"Collection '{collection}' of '{storePath}' was built with model '{manifest.ModelId}' ({manifest.Dimension.ToString(CultureInfo.InvariantCulture)}-d); " +
                    $"the model given is '{model.ModelId}' ({model.Dimension.ToString(CultureInfo.InvariantCulture)}-d). Embeddings of different models cannot be compared: " +
                    "use the model that built it, or index into another --store or --collection.");
            }

            var items = store.GetCollection<string, IndexedItem>(collection, ItemDefinition(model.Dimension));
            if (create)
            {
                await manifests.EnsureCollectionExistsAsync(cancellationToken).ConfigureAwait(false);
                await items.EnsureCollectionExistsAsync(cancellationToken).ConfigureAwait(false);
            }

            return new VectorIndex(store, collection, items, manifests);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Records that <paramref name="model"/> built the collection from <paramref name="sourceFolder"/>.</summary>
    public Task WriteManifestAsync(Vlm2VecModelInfo model, string sourceFolder, CancellationToken cancellationToken) =>
        _manifests.UpsertAsync(
            new IndexManifest
            {
                ModelId = model.ModelId,
                Dimension = model.Dimension,
                SourceFolder = Path.GetFullPath(sourceFolder),
                UpdatedAt = DateTimeOffset.UtcNow,
            },
            cancellationToken);

    /// <summary>Every indexed item (without vectors), by key.</summary>
    public async Task<Dictionary<string, IndexedItem>> ReadAllAsync(bool includeVectors, CancellationToken cancellationToken)
    {
        var all = new Dictionary<string, IndexedItem>(StringComparer.Ordinal);
        var options = new FilteredRecordRetrievalOptions<IndexedItem> { IncludeVectors = includeVectors };
        await foreach (var item in Items.GetAsync(_ => true, int.MaxValue, options, cancellationToken).ConfigureAwait(false))
        {
            all[item.Key] = item;
        }

        return all;
    }

    /// <summary>The <paramref name="top"/> items nearest <paramref name="query"/> by cosine, best first (optionally leaving one key out).</summary>
    public async Task<IReadOnlyList<SearchHit>> SearchAsync(ReadOnlyMemory<float> query, int top, string? excludeKey, CancellationToken cancellationToken)
    {
        var hits = new List<SearchHit>(top);
        var options = excludeKey is null
            ? new VectorSearchOptions<IndexedItem>()
            : new VectorSearchOptions<IndexedItem> { Filter = item => item.Key != excludeKey };
        await foreach (var hit in Items.SearchAsync(query, top, options, cancellationToken).ConfigureAwait(false))
        {
            hits.Add(new SearchHit(hits.Count + 1, hit.Score ?? double.NaN, hit.Record));
        }

        return hits;
    }

    public void Dispose() => _store.Dispose();

    private static VectorStoreCollectionDefinition ItemDefinition(int dimension) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(IndexedItem.Key), typeof(string)),
            new VectorStoreDataProperty(nameof(IndexedItem.Path), typeof(string)),
            new VectorStoreDataProperty(nameof(IndexedItem.Kind), typeof(string)),
            new VectorStoreDataProperty(nameof(IndexedItem.Preview), typeof(string)),
            new VectorStoreDataProperty(nameof(IndexedItem.ModelId), typeof(string)),
            new VectorStoreDataProperty(nameof(IndexedItem.Instruction), typeof(string)),
            new VectorStoreDataProperty(nameof(IndexedItem.ContentHash), typeof(string)),
            new VectorStoreVectorProperty(nameof(IndexedItem.Vector), typeof(ReadOnlyMemory<float>), dimension)
            {
                DistanceFunction = DistanceFunction.CosineSimilarity,
            },
        ],
    };

    private static VectorStoreCollectionDefinition ManifestDefinition() => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(IndexManifest.Key), typeof(string)),
            new VectorStoreDataProperty(nameof(IndexManifest.ModelId), typeof(string)),
            new VectorStoreDataProperty(nameof(IndexManifest.Dimension), typeof(int)),
            new VectorStoreDataProperty(nameof(IndexManifest.SourceFolder), typeof(string)),
            new VectorStoreDataProperty(nameof(IndexManifest.UpdatedAt), typeof(DateTimeOffset)),
        ],
    };
}
