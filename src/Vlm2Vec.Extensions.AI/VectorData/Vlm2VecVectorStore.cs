using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// An embedded, in-process <see cref="VectorStore"/>: collections live in memory (vectors in contiguous float32 arenas,
/// searched exactly with SIMD) and, when a <see cref="Vlm2VecVectorStoreOptions.DatabasePath"/> is given, in one SQLite
/// file (a table per collection, vectors as little-endian float32 BLOBs, data as JSON), written in one transaction per
/// batch with a write-ahead log, so a killed process loses no acknowledged write and never corrupts the file. The file
/// is read once, when a collection is first used.
/// </summary>
/// <remarks>
/// Embedding generators are taken, highest priority first, from the vector property, the collection definition, the
/// collection options, and this store (<see cref="Vlm2VecVectorStoreOptions.EmbeddingGenerator"/>). Thread-safe.
/// Disposing the store closes the file once no other store instance in the process uses it.
/// </remarks>
public sealed class Vlm2VecVectorStore : VectorStore
{
    /// <summary>The <see cref="VectorStoreMetadata.VectorStoreSystemName"/> of this store.</summary>
    public const string SystemName = "vlm2vec";

    private readonly VectorDatabase _database;
    private readonly VectorStoreMetadata _metadata;
    private readonly IEmbeddingGenerator? _embeddingGenerator;
    private int _disposed;

    /// <summary>Opens (or creates) a store.</summary>
    /// <param name="options">Where and how to store; null: in memory, no default generator.</param>
    /// <exception cref="VectorStoreException">The file cannot be opened: not a store, from a newer version, or locked by another process.</exception>
    public Vlm2VecVectorStore(Vlm2VecVectorStoreOptions? options = null)
    {
        options ??= new Vlm2VecVectorStoreOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSearchParallelism, 1, nameof(options));
        _embeddingGenerator = options.EmbeddingGenerator;
        MaxSearchParallelism = options.MaxSearchParallelism;
        var logger = options.LoggerFactory?.CreateLogger<Vlm2VecVectorStore>();
        _database = string.IsNullOrEmpty(options.DatabasePath)
            ? new VectorDatabase(logger)
            : VectorDatabaseRegistry.Acquire(options.DatabasePath, options.Durability, options.LockTimeout, logger);
        _metadata = new VectorStoreMetadata { VectorStoreSystemName = SystemName, VectorStoreName = _database.StoreName };
    }

    /// <summary>Opens (or creates) a store on <paramref name="databasePath"/> (null: in memory).</summary>
    /// <param name="databasePath">The SQLite file, or null for an in-memory store.</param>
    /// <param name="embeddingGenerator">The store's default embedding generator, if any.</param>
    public Vlm2VecVectorStore(string? databasePath, IEmbeddingGenerator? embeddingGenerator = null)
        : this(new Vlm2VecVectorStoreOptions { DatabasePath = databasePath, EmbeddingGenerator = embeddingGenerator })
    {
    }

    /// <summary>The database file, or null for an in-memory store.</summary>
    public string? DatabasePath => _database.Path;

    /// <summary>The most threads one search uses (settable for benchmarks).</summary>
    internal int MaxSearchParallelism { get; set; }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <inheritdoc />
    public override Vlm2VecVectorStoreCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null)
        => GetCollection<TKey, TRecord>(name, new Vlm2VecVectorStoreCollectionOptions { Definition = definition });

    /// <summary>Gets a collection with a collection-level embedding generator or definition.</summary>
    /// <typeparam name="TKey">string, Guid, int or long.</typeparam>
    /// <typeparam name="TRecord">The record type (attributes, or the options' definition, describe it).</typeparam>
    /// <param name="name">The collection name.</param>
    /// <param name="options">The definition and embedding generator.</param>
    /// <returns>A view of the collection (it need not exist yet; see <see cref="VectorStoreCollection{TKey, TRecord}.EnsureCollectionExistsAsync"/>).</returns>
    public Vlm2VecVectorStoreCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, Vlm2VecVectorStoreCollectionOptions options)
        where TKey : notnull
        where TRecord : class
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfDisposed();
        if (typeof(TRecord) == typeof(Dictionary<string, object?>))
        {
            throw new NotSupportedException(VectorDataStrings.GetCollectionWithDictionaryNotSupported);
        }

        var model = new Vlm2VecModelBuilder().Build(typeof(TRecord), typeof(TKey), options.Definition, options.EmbeddingGenerator ?? _embeddingGenerator);
        return new Vlm2VecVectorStoreCollection<TKey, TRecord>(this, _database, name, model);
    }

    /// <inheritdoc />
    public override Vlm2VecVectorStoreDynamicCollection GetDynamicCollection(string name, VectorStoreCollectionDefinition definition)
        => GetDynamicCollection(name, new Vlm2VecVectorStoreCollectionOptions { Definition = definition });

    /// <summary>Gets a dynamic collection with a collection-level embedding generator.</summary>
    /// <param name="name">The collection name.</param>
    /// <param name="options">The definition (required) and embedding generator.</param>
    /// <returns>A view of the collection.</returns>
    public Vlm2VecVectorStoreDynamicCollection GetDynamicCollection(string name, Vlm2VecVectorStoreCollectionOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        var definition = options.Definition ?? throw new ArgumentException("A dynamic collection needs a definition.", nameof(options));
        ThrowIfDisposed();
        var model = new Vlm2VecModelBuilder().BuildDynamic(definition, definition.EmbeddingGenerator ?? options.EmbeddingGenerator ?? _embeddingGenerator);
        return new Vlm2VecVectorStoreDynamicCollection(this, _database, name, model);
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        foreach (var name in _database.CollectionNames())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ThrowIfDisposed();
        return Task.FromResult(_database.CollectionExists(name));
    }

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ThrowIfDisposed();
        return _database.DeleteCollectionAsync(name, cancellationToken);
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Runs SQLite's <c>PRAGMA integrity_check</c> on the file ("ok" when sound; always "ok" in memory).</summary>
    /// <param name="cancellationToken">Cancels waiting for pending writes.</param>
    /// <returns>The first line of SQLite's report.</returns>
    public Task<string> CheckIntegrityAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _database.CheckIntegrityAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (_database.Path is null)
            {
                _database.Dispose();
            }
            else
            {
                VectorDatabaseRegistry.Release(_database);
            }
        }

        base.Dispose(disposing);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);
}
