using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.VectorData;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// One store's data, shared by every <see cref="Vlm2VecVectorStore"/> instance opened on the same file in this process
/// (see <see cref="VectorDatabaseRegistry"/>), or private to one in-memory store. Owns the catalog of collections, their
/// in-memory storage (loaded from SQLite on first use) and the write gate: every change is committed to SQLite first,
/// in one transaction per batch, and applied to memory only after the commit, in commit order.
/// </summary>
internal sealed class VectorDatabase : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _catalogLock = new();
    private readonly Dictionary<string, CatalogEntry> _catalog = new(StringComparer.Ordinal);
    private readonly SqlitePersistence? _persistence;
    private readonly ILogger _logger;
    private long _nextInMemoryId = 1;
    private bool _disposed;

    /// <summary>Opens (or creates) a file-backed database.</summary>
    public VectorDatabase(string path, Vlm2VecVectorStoreDurability durability, TimeSpan lockTimeout, ILogger? logger)
    {
        _logger = logger ?? NullLogger.Instance;
        Path = path;
        try
        {
            _persistence = new SqlitePersistence(path, durability, lockTimeout);
            foreach (var (id, name, schema) in _persistence.ReadCatalog())
            {
                _catalog[name] = new CatalogEntry(id, schema);
            }
        }
        catch (Exception ex) when (ex is SqliteException or InvalidDataException or InvalidOperationException or System.Text.Json.JsonException)
        {
            _persistence?.Dispose();
            throw Wrap(ex, "Open", collectionName: null, IsBusy(ex)
                ? $"The vector store file '{path}' is in use by another process (the store holds an exclusive lock while open)."
                : $"The vector store file '{path}' could not be opened: {ex.Message}");
        }
    }

    /// <summary>Creates an in-memory database (nothing persisted).</summary>
    public VectorDatabase(ILogger? logger)
    {
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The database file, or null in memory.</summary>
    public string? Path { get; }

    /// <summary>The name reported in <see cref="VectorStoreMetadata"/>.</summary>
    public string? StoreName => Path is null ? null : System.IO.Path.GetFileName(Path);

    public IReadOnlyList<string> CollectionNames()
    {
        lock (_catalogLock)
        {
            return [.. _catalog.Keys];
        }
    }

    public bool CollectionExists(string name)
    {
        lock (_catalogLock)
        {
            return _catalog.ContainsKey(name);
        }
    }

    /// <summary>The storage of a collection, loading it on first use; null when the collection does not exist.</summary>
    public async Task<CollectionStorage?> GetStorageAsync(string name, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (TryGetEntry(name) is not { } entry)
        {
            return null;
        }

        if (entry.Storage is { } loaded)
        {
            return loaded;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return TryGetEntry(name) is { } current ? LoadLocked(name, current) : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Creates the collection with the schema <paramref name="schemaFor"/> gives for null when it does not exist; when it
    /// does, stores the schema <paramref name="schemaFor"/> returns for the current one (the same instance: no change;
    /// otherwise data fields appended). <paramref name="schemaFor"/> throws for incompatible shapes.
    /// </summary>
    public async Task<CollectionStorage> EnsureCollectionAsync(string name, Func<CollectionSchema?, CollectionSchema> schemaFor, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (TryGetEntry(name) is { } existing)
            {
                var storage = LoadLocked(name, existing);
                var wanted = schemaFor(storage.Schema);
                if (!ReferenceEquals(wanted, storage.Schema))
                {
                    Run("EnsureCollectionExists", name, () => _persistence?.UpdateSchema(existing.Id, wanted));
                    storage.ReplaceSchema(wanted);
                    lock (_catalogLock)
                    {
                        existing.Schema = wanted;
                    }

                    _logger.LogInformation("Vector store collection '{Collection}': data fields added; the schema is now {Schema}.", name, wanted.ToJson());
                }

                return storage;
            }

            var schema = schemaFor(null);
            var id = Run("EnsureCollectionExists", name, () => _persistence?.CreateCollection(name, schema) ?? _nextInMemoryId++);
            var created = new CollectionStorage(name, id, schema);
            lock (_catalogLock)
            {
                _catalog[name] = new CatalogEntry(id, schema) { Storage = created };
            }

            return created;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task DeleteCollectionAsync(string name, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (TryGetEntry(name) is not { } entry)
            {
                return;
            }

            Run("EnsureCollectionDeleted", name, () => _persistence?.DropCollection(entry.Id));
            lock (_catalogLock)
            {
                _catalog.Remove(name);
            }

            entry.Storage?.MarkDeleted();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Commits <paramref name="rows"/> (one transaction), then applies them to memory.</summary>
    public async Task UpsertAsync(CollectionStorage storage, IReadOnlyList<PendingRow> rows, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDeleted(storage, "Upsert");
            Run("Upsert", storage.Name, () => _persistence?.Upsert(storage.CatalogId, storage.Schema, rows, cancellationToken));
            ApplyCommitted(storage, () => storage.Apply(rows));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Deletes <paramref name="keys"/> (one transaction), then removes them from memory.</summary>
    public async Task DeleteAsync(CollectionStorage storage, IReadOnlyList<object> keys, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDeleted(storage, "Delete");
            Run("Delete", storage.Name, () => _persistence?.Delete(storage.CatalogId, keys, cancellationToken));
            ApplyCommitted(storage, () => storage.Remove(keys));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs <c>PRAGMA integrity_check</c> (file-backed only).</summary>
    public async Task<string> CheckIntegrityAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _persistence is null ? "ok" : Run("IntegrityCheck", null, _persistence.IntegrityCheck);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>An exception in the store's terms.</summary>
    public VectorStoreException Wrap(Exception inner, string operation, string? collectionName, string? message = null) =>
        new(message ?? $"The vector store failed during {operation}{(collectionName is null ? string.Empty : $" on collection '{collectionName}'")}: {inner.Message}", inner)
        {
            VectorStoreSystemName = Vlm2VecVectorStore.SystemName,
            VectorStoreName = StoreName,
            CollectionName = collectionName,
            OperationName = operation,
        };

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _persistence?.Dispose();
        lock (_catalogLock)
        {
            foreach (var entry in _catalog.Values)
            {
                entry.Storage?.Dispose();
            }

            _catalog.Clear();
        }

        _gate.Dispose();
    }

    private static bool IsBusy(Exception ex) => ex is SqliteException { SqliteErrorCode: 5 or 6 };

    private CatalogEntry? TryGetEntry(string name)
    {
        lock (_catalogLock)
        {
            return _catalog.GetValueOrDefault(name);
        }
    }

    /// <summary>Returns the entry's storage, loading it from SQLite first if needed (caller holds the gate).</summary>
    private CollectionStorage LoadLocked(string name, CatalogEntry entry)
    {
        if (entry.Storage is { } storage)
        {
            return storage;
        }

        var loaded = new CollectionStorage(name, entry.Id, entry.Schema);
        if (_persistence is not null)
        {
            Run("Load", name, () => _persistence.Load(entry.Id, entry.Schema, loaded));
            _logger.LogDebug("Vector store collection '{Collection}' loaded: {Count} records.", name, loaded.Count);
        }

        lock (_catalogLock)
        {
            entry.Storage = loaded;
        }

        return loaded;
    }

    /// <summary>
    /// Applies a committed change to memory. Should that fail (out of memory), the collection's memory no longer matches
    /// the file: it is dropped and reloaded from the file on next use (file-backed stores; in memory there is nothing to
    /// reload from, so the error stands).
    /// </summary>
    private void ApplyCommitted(CollectionStorage storage, Action apply)
    {
        try
        {
            apply();
        }
        catch (Exception ex) when (_persistence is not null && ex is OutOfMemoryException or InsufficientExecutionStackException)
        {
            _logger.LogError(ex, "Vector store collection '{Collection}': a committed change could not be applied in memory; the collection will be reloaded from the file.", storage.Name);
            lock (_catalogLock)
            {
                if (_catalog.GetValueOrDefault(storage.Name) is { } entry && ReferenceEquals(entry.Storage, storage))
                {
                    entry.Storage = null;
                }
            }

            storage.MarkDeleted();
            throw;
        }
    }

    private void ThrowIfDeleted(CollectionStorage storage, string operation)
    {
        if (storage.IsDeleted)
        {
            throw new VectorStoreException($"Collection '{storage.Name}' was deleted; call EnsureCollectionExistsAsync to create it again.")
            {
                VectorStoreSystemName = Vlm2VecVectorStore.SystemName,
                VectorStoreName = StoreName,
                CollectionName = storage.Name,
                OperationName = operation,
            };
        }
    }

    private T Run<T>(string operation, string? collectionName, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is SqliteException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw Wrap(ex, operation, collectionName);
        }
    }

    private void Run(string operation, string? collectionName, Action action) =>
        Run(operation, collectionName, () =>
        {
            action();
            return true;
        });

    /// <summary>A collection the catalog knows: its id, current schema and (once loaded) storage.</summary>
    private sealed class CatalogEntry(long id, CollectionSchema schema)
    {
        public long Id { get; } = id;

        public CollectionSchema Schema { get; set; } = schema;

        public CollectionStorage? Storage { get; set; }
    }
}
