using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// A collection of a <see cref="Vlm2VecVectorStore"/>: records of <typeparamref name="TRecord"/> keyed by
/// <typeparamref name="TKey"/> (string, Guid, int or long; empty Guid keys are generated on upsert), searched exactly.
/// Obtain one from <see cref="Vlm2VecVectorStore.GetCollection{TKey, TRecord}(string, VectorStoreCollectionDefinition?)"/>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Vectors.</b> Native vector properties (<see cref="ReadOnlyMemory{T}"/>, <c>float[]</c>, <see cref="Embedding{T}"/>
/// of float) are stored as given. Input-typed vector properties (string, <see cref="DataContent"/>, or any type through
/// <c>VectorStoreVectorProperty&lt;TInput&gt;</c>, e.g. <see cref="AIContent"/> to keep text and images in one
/// collection) are embedded on upsert, one generator call per property per batch; only the vector is stored, so reading
/// them back with <c>IncludeVectors</c> throws <see cref="NotSupportedException"/>. The generator is called with the
/// input type matching each value's runtime type, so a generator that implements several input types (text and
/// content) works on any property.
/// </para>
/// <para>
/// <b>Search</b> accepts a vector (<see cref="ReadOnlyMemory{T}"/>, <c>float[]</c>, <see cref="Embedding{T}"/>) or any
/// value the property's generator accepts (string, <see cref="TextContent"/>, <see cref="DataContent"/>,
/// <see cref="AIContent"/>, …; a string is wrapped in a <see cref="TextContent"/> for a content-only generator). It
/// scores every stored vector (SIMD), keeps the best skip + top in a heap, and honours
/// <see cref="VectorSearchOptions{TRecord}.Filter"/>, <see cref="VectorSearchOptions{TRecord}.ScoreThreshold"/> (at
/// least the threshold for similarities, at most for distances) and <see cref="VectorSearchOptions{TRecord}.Skip"/>.
/// </para>
/// <para>
/// <b>Filters</b> are LINQ expressions over the key and data properties, evaluated in process; filtering on vector
/// properties or on the record object itself throws <see cref="NotSupportedException"/>.
/// </para>
/// <para>
/// <b>Writes</b> are atomic per call: a batch is validated and embedded first, then committed in one SQLite transaction
/// (a bad record fails the whole batch with a <see cref="BatchItemException"/> naming it, and nothing is written), then
/// made visible to searches.
/// </para>
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TRecord">The record type.</typeparam>
public class Vlm2VecVectorStoreCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>
    where TKey : notnull
    where TRecord : class
{
    private readonly Vlm2VecVectorStore _store;
    private readonly VectorDatabase _database;
    private readonly CollectionModel _model;
    private readonly VectorStoreCollectionMetadata _metadata;
    private CollectionBinding? _binding;

    internal Vlm2VecVectorStoreCollection(Vlm2VecVectorStore store, VectorDatabase database, string name, CollectionModel model)
    {
        _store = store;
        _database = database;
        _model = model;
        Name = name;
        _metadata = new VectorStoreCollectionMetadata
        {
            VectorStoreSystemName = Vlm2VecVectorStore.SystemName,
            VectorStoreName = database.StoreName,
            CollectionName = name,
        };
    }

    /// <inheritdoc />
    public override string Name { get; }

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return Task.FromResult(_database.CollectionExists(Name));
    }

    /// <inheritdoc />
    /// <remarks>
    /// Creates the collection from this record type's model, or, when it exists, checks that this record type fits it
    /// (same key kind, same data types for the same names, every vector field with the same dimensions) and adds the
    /// data fields it lacks. Incompatible record types throw <see cref="InvalidOperationException"/>.
    /// </remarks>
    public override async Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        await _database.EnsureCollectionAsync(Name, MergeSchema, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _database.DeleteCollectionAsync(Name, cancellationToken);
    }

    /// <inheritdoc />
    public override async Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var includeVectors = CheckIncludeVectors(options?.IncludeVectors ?? false);
        var binding = await BindAsync("Get", cancellationToken).ConfigureAwait(false);
        var storedKey = binding.NormalizeKey(key, nameof(key));
        using (binding.Storage.Read())
        {
            return binding.Storage.Find(storedKey) is { } row ? binding.Materialize<TRecord>(row, includeVectors) : null;
        }
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<TRecord> GetAsync(
        IEnumerable<TKey> keys,
        RecordRetrievalOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var includeVectors = CheckIncludeVectors(options?.IncludeVectors ?? false);
        var keyList = keys as IReadOnlyCollection<TKey> ?? [.. keys];
        if (keyList.Count == 0)
        {
            yield break;
        }

        var binding = await BindAsync("Get", cancellationToken).ConfigureAwait(false);
        var storedKeys = keyList.Select(k => binding.NormalizeKey(k, nameof(keys))).ToList();
        var results = new List<TRecord>(storedKeys.Count);
        using (binding.Storage.Read())
        {
            foreach (var storedKey in storedKeys)
            {
                if (binding.Storage.Find(storedKey) is { } row)
                {
                    results.Add(binding.Materialize<TRecord>(row, includeVectors));
                }
            }
        }

        foreach (var record in results)
        {
            yield return record;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Records are returned in storage order, or sorted by <see cref="FilteredRecordRetrievalOptions{TRecord}.OrderBy"/>
    /// (strings compared ordinally, nulls first).
    /// </remarks>
    public override async IAsyncEnumerable<TRecord> GetAsync(
        Expression<Func<TRecord, bool>> filter,
        int top,
        FilteredRecordRetrievalOptions<TRecord>? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options));
        var includeVectors = CheckIncludeVectors(options.IncludeVectors);
        var binding = await BindAsync("Get", cancellationToken).ConfigureAwait(false);
        var predicate = RowExpressionCompiler.CompileFilter(filter, binding);
        var orderBy = options.OrderBy?.Invoke(new FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition()).Values ?? [];
        var selectors = orderBy.Select(o => (Select: RowExpressionCompiler.CompileSelector(o.PropertySelector, binding), o.Ascending)).ToArray();

        var results = new List<TRecord>();
        using (binding.Storage.Read())
        {
            var storage = binding.Storage;
            var matches = new List<StoredRow>();
            for (var slot = 0; slot < storage.HighWater; slot++)
            {
                if (storage.RowAt(slot) is { } row && predicate(row))
                {
                    matches.Add(row);
                }
            }

            IEnumerable<StoredRow> ordered = matches;
            if (selectors.Length > 0)
            {
                var sortKeys = matches.ToDictionary(r => r, r => selectors.Select(s => s.Select(r)).ToArray());
                var sorted = matches.ToArray();
                Array.Sort(sorted, (a, b) =>
                {
                    for (var i = 0; i < selectors.Length; i++)
                    {
                        var byKey = CompareSortValues(sortKeys[a][i], sortKeys[b][i]);
                        if (byKey != 0)
                        {
                            return selectors[i].Ascending ? byKey : -byKey;
                        }
                    }

                    return a.Slot.CompareTo(b.Slot);
                });
                ordered = sorted;
            }

            foreach (var row in ordered.Skip(options.Skip).Take(top))
            {
                results.Add(binding.Materialize<TRecord>(row, includeVectors));
            }
        }

        foreach (var record in results)
        {
            yield return record;
        }
    }

    /// <inheritdoc />
    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return DeleteAsync([key], cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>All keys are deleted in one transaction; missing keys are ignored.</remarks>
    public override async Task DeleteAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var keyList = keys as IReadOnlyCollection<TKey> ?? [.. keys];
        if (keyList.Count == 0)
        {
            return;
        }

        var binding = await BindAsync("Delete", cancellationToken).ConfigureAwait(false);
        var storedKeys = keyList.Select(k => binding.NormalizeKey(k, nameof(keys))).ToList();
        await _database.DeleteAsync(binding.Storage, storedKeys, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await UpsertAsync([record], cancellationToken).ConfigureAwait(false);
        }
        catch (BatchItemException ex) when (ex.InnerException is ArgumentException argument)
        {
            throw new ArgumentException(argument.Message, nameof(record), argument);
        }
    }

    /// <inheritdoc />
    /// <exception cref="BatchItemException">A record cannot be stored (its <see cref="BatchItemException.ItemIndex"/> says which); nothing was written.</exception>
    public override async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var list = records as IReadOnlyList<TRecord> ?? [.. records];
        if (list.Count == 0)
        {
            return;
        }

        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is null)
            {
                throw new BatchItemException(i, new ArgumentNullException(nameof(records), $"Record {i} is null."));
            }
        }

        var binding = await BindAsync("Upsert", cancellationToken).ConfigureAwait(false);
        var generated = new ReadOnlyMemory<float>[]?[binding.Vectors.Length];
        for (var v = 0; v < binding.Vectors.Length; v++)
        {
            var property = binding.Vectors[v].Property;
            if (binding.Vectors[v].Kind != VectorValueKind.Generated)
            {
                continue;
            }

            var inputs = new object?[list.Count];
            for (var i = 0; i < inputs.Length; i++)
            {
                inputs[i] = property.GetValueAsObject(list[i]);
            }

            generated[v] = await EmbeddingDispatcher.GenerateAsync(property, inputs, cancellationToken).ConfigureAwait(false);
        }

        var pending = new PendingRow[list.Count];
        for (var i = 0; i < pending.Length; i++)
        {
            try
            {
                pending[i] = binding.ToPendingRow(list[i], i, generated);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidCastException or OverflowException)
            {
                throw new BatchItemException(i, ex);
            }
        }

        await _database.UpsertAsync(binding.Storage, pending, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(
        TInput searchValue,
        int top,
        VectorSearchOptions<TRecord>? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options));
        var includeVectors = CheckIncludeVectors(options.IncludeVectors);
        var property = _model.GetVectorPropertyOrSingle(options);
        var query = await QueryVectorAsync(property, searchValue, cancellationToken).ConfigureAwait(false);
        if (query.Length != property.Dimensions)
        {
            throw new ArgumentException(
                $"The search vector has {query.Length} dimensions; vector property '{property.ModelName}' has {property.Dimensions}.", nameof(searchValue));
        }

        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(query.Span))
        {
            throw new ArgumentException("The search vector contains NaN or infinity.", nameof(searchValue));
        }

        var binding = await BindAsync("Search", cancellationToken).ConfigureAwait(false);
        var vector = binding.VectorOf(property);
        var filter = options.Filter is null ? null : RowExpressionCompiler.CompileFilter(options.Filter, binding);
        var wanted = (int)Math.Min((long)options.Skip + top, int.MaxValue);
        var results = new List<VectorSearchResult<TRecord>>(Math.Min(top, 1024));
        using (binding.Storage.Read())
        {
            var hits = ExactSearch.Search(
                binding.Storage, vector.SchemaIndex, query, vector.Distance, filter, options.ScoreThreshold, wanted, _store.MaxSearchParallelism);
            for (var i = options.Skip; i < hits.Length; i++)
            {
                var row = binding.Storage.RowAt(hits[i].Slot)!;
                results.Add(new VectorSearchResult<TRecord>(binding.Materialize<TRecord>(row, includeVectors), hits[i].Score));
            }
        }

        foreach (var result in results)
        {
            yield return result;
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreCollectionMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    private static int CompareSortValues(object? a, object? b) => (a, b) switch
    {
        (null, null) => 0,
        (null, _) => -1,
        (_, null) => 1,
        (string x, string y) => string.CompareOrdinal(x, y),
        _ => System.Collections.Comparer.DefaultInvariant.Compare(a, b),
    };

    private static async Task<ReadOnlyMemory<float>> QueryVectorAsync<TInput>(VectorPropertyModel property, TInput searchValue, CancellationToken cancellationToken)
        where TInput : notnull
    {
        switch (searchValue)
        {
            case ReadOnlyMemory<float> memory:
                return memory;
            case float[] array:
                return array;
            case Embedding<float> embedding:
                return embedding.Vector;
        }

        if (property.EmbeddingGenerator is { } generator)
        {
            return await EmbeddingDispatcher.GenerateSearchVectorAsync(property, generator, searchValue, typeof(TInput), cancellationToken).ConfigureAwait(false);
        }

        throw new NotSupportedException(
            VectorDataStrings.InvalidSearchInputAndNoEmbeddingGeneratorWasConfigured(searchValue.GetType(), Vlm2VecModelBuilder.SupportedVectorTypes));
    }

    private bool CheckIncludeVectors(bool includeVectors)
    {
        ThrowIfDisposed();
        if (includeVectors && _model.EmbeddingGenerationRequired)
        {
            throw new NotSupportedException(VectorDataStrings.IncludeVectorsNotSupportedWithEmbeddingGeneration);
        }

        return includeVectors;
    }

    private CollectionSchema MergeSchema(CollectionSchema? existing)
    {
        if (existing is null)
        {
            return CollectionSchema.FromModel(_model);
        }

        var problems = CollectionBinding.Incompatibilities(_model, existing, Name, out var missing);
        if (problems is not null)
        {
            throw new InvalidOperationException(problems);
        }

        return missing.Count == 0 ? existing : existing.WithDataFields(missing);
    }

    private async Task<CollectionBinding> BindAsync(string operation, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var storage = await _database.GetStorageAsync(Name, cancellationToken).ConfigureAwait(false)
            ?? throw new VectorStoreException($"Collection '{Name}' does not exist; call EnsureCollectionExistsAsync first.")
            {
                VectorStoreSystemName = Vlm2VecVectorStore.SystemName,
                VectorStoreName = _database.StoreName,
                CollectionName = Name,
                OperationName = operation,
            };

        if (_binding is { } cached && ReferenceEquals(cached.Storage, storage))
        {
            return cached;
        }

        var problems = CollectionBinding.Incompatibilities(_model, storage.Schema, Name, out var missing);
        if (problems is not null)
        {
            throw new InvalidOperationException(problems);
        }

        if (missing.Count > 0)
        {
            storage = await _database.EnsureCollectionAsync(Name, MergeSchema, cancellationToken).ConfigureAwait(false);
        }

        var binding = new CollectionBinding(_model, storage);
        _binding = binding;
        return binding;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_store.IsDisposed, _store);
}
