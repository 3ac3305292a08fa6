namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// The in-memory state of one collection: rows by slot, a key → slot map, and one <see cref="VectorArena"/> per vector
/// field. Writers (the database, after a commit) take the write lock; readers take the read lock for a whole search or
/// lookup, including copying values out, so results never mix two versions of a row.
/// </summary>
internal sealed class CollectionStorage : IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<object, int> _slotsByKey = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly VectorArena[] _arenas;
    private StoredRow?[] _rows = new StoredRow?[16];

    public CollectionStorage(string name, long catalogId, CollectionSchema schema)
    {
        Name = name;
        CatalogId = catalogId;
        Schema = schema;
        _arenas = new VectorArena[schema.VectorFields.Count];
        for (var i = 0; i < _arenas.Length; i++)
        {
            _arenas[i] = new VectorArena(schema.VectorFields[i].Dimensions);
        }
    }

    public string Name { get; }

    /// <summary>The collection's id in the catalog (its table is named after it).</summary>
    public long CatalogId { get; }

    /// <summary>The stored schema; replaced (data fields appended) under the database's write gate.</summary>
    public CollectionSchema Schema { get; private set; }

    /// <summary>Set when the collection was deleted; operations through old views then fail.</summary>
    public bool IsDeleted { get; private set; }

    /// <summary>The number of slots ever used (live or free); scans stop here.</summary>
    public int HighWater { get; private set; }

    /// <summary>The number of records (take the read lock for a consistent value).</summary>
    public int Count => _slotsByKey.Count;

    public VectorArena Arena(int vectorFieldIndex) => _arenas[vectorFieldIndex];

    /// <summary>The row at <paramref name="slot"/> or null (call under the read lock).</summary>
    public StoredRow? RowAt(int slot) => _rows[slot];

    /// <summary>Finds a row by normalised key (call under the read lock).</summary>
    public StoredRow? Find(object key) => _slotsByKey.TryGetValue(key, out var slot) ? _rows[slot] : null;

    /// <summary>Enters the read lock until the returned scope is disposed.</summary>
    public ReadScope Read()
    {
        _lock.EnterReadLock();
        return new ReadScope(_lock);
    }

    /// <summary>Inserts or replaces rows (last one wins for repeated keys).</summary>
    public void Apply(IReadOnlyList<PendingRow> rows)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var row in rows)
            {
                Put(row.Key, row.Data, row.Vectors);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Inserts one row while loading (the collection is not yet visible to readers).</summary>
    public void Load(object key, object?[] data, ReadOnlyMemory<float>[] vectors) => Put(key, data, vectors);

    /// <summary>Removes rows by normalised key; missing keys are ignored.</summary>
    public void Remove(IReadOnlyList<object> keys)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var key in keys)
            {
                if (_slotsByKey.Remove(key, out var slot))
                {
                    _rows[slot] = null;
                    foreach (var arena in _arenas)
                    {
                        arena.Clear(slot);
                    }

                    _freeSlots.Push(slot);
                }
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Replaces the schema (data fields appended only).</summary>
    public void ReplaceSchema(CollectionSchema schema)
    {
        _lock.EnterWriteLock();
        try
        {
            Schema = schema;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Marks the collection deleted and frees its memory.</summary>
    public void MarkDeleted()
    {
        _lock.EnterWriteLock();
        try
        {
            IsDeleted = true;
            _slotsByKey.Clear();
            _rows = [];
            HighWater = 0;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public void Dispose() => _lock.Dispose();

    private void Put(object key, object?[] data, ReadOnlyMemory<float>[] vectors)
    {
        if (!_slotsByKey.TryGetValue(key, out var slot))
        {
            slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : HighWater++;
            if (slot >= _rows.Length)
            {
                Array.Resize(ref _rows, Math.Max(_rows.Length * 2, slot + 1));
            }

            _slotsByKey[key] = slot;
        }

        for (var i = 0; i < _arenas.Length; i++)
        {
            var vector = i < vectors.Length ? vectors[i] : default;
            if (vector.IsEmpty)
            {
                _arenas[i].Clear(slot);
            }
            else
            {
                _arenas[i].Set(slot, vector.Span);
            }
        }

        _rows[slot] = new StoredRow(key, data, slot);
    }

    /// <summary>Holds the read lock of a <see cref="CollectionStorage"/> until disposed.</summary>
    internal readonly struct ReadScope(ReaderWriterLockSlim readerWriterLock) : IDisposable
    {
        public void Dispose() => readerWriterLock.ExitReadLock();
    }
}
