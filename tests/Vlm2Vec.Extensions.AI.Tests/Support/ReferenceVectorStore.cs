using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.Tests.Support;

/// <summary>
/// A minimal in-memory VectorData connector written the way third-party connectors are: it builds its model with
/// MEVD's <see cref="CollectionModelBuilder"/> and generates embeddings only through MEVD's own dispatch
/// (<see cref="VectorPropertyModel.GenerateEmbeddingsAsync"/>), so it shows how the Vlm2Vec generator behaves with "any
/// other connector" (Qdrant, Postgres, …), bug for bug. Exact cosine search, LINQ filters compiled in memory.
/// </summary>
internal sealed class ReferenceVectorStore(IEmbeddingGenerator? embeddingGenerator = null) : VectorStore
{
    private readonly ConcurrentDictionary<string, object> _collections = new(StringComparer.Ordinal);

    public override VectorStoreCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null) =>
        (VectorStoreCollection<TKey, TRecord>)_collections.GetOrAdd(name, _ => new ReferenceCollection<TKey, TRecord>(name, definition, embeddingGenerator));

    public override VectorStoreCollection<object, Dictionary<string, object?>> GetDynamicCollection(string name, VectorStoreCollectionDefinition definition) =>
        throw new NotSupportedException();

    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        foreach (var name in _collections.Keys)
        {
            yield return name;
        }
    }

    public override Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default) => Task.FromResult(_collections.ContainsKey(name));

    public override Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        _collections.TryRemove(name, out _);
        return Task.CompletedTask;
    }

    public override object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;
}

internal sealed class ReferenceCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>
    where TKey : notnull
    where TRecord : class
{
    private readonly CollectionModel _model;
    private readonly ConcurrentDictionary<TKey, (TRecord Record, ReadOnlyMemory<float>[] Vectors)> _rows = new();

    public ReferenceCollection(string name, VectorStoreCollectionDefinition? definition, IEmbeddingGenerator? embeddingGenerator)
    {
        Name = name;
        _model = new ModelBuilder().Build(typeof(TRecord), typeof(TKey), definition, embeddingGenerator);
    }

    public override string Name { get; }

    /// <summary>Generator calls made through MEVD's dispatch (upserts and searches).</summary>
    public int GenerationCalls;

    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) => Task.FromResult(true);

    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default)
    {
        _rows.Clear();
        return Task.CompletedTask;
    }

    public override Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (options?.IncludeVectors == true && _model.EmbeddingGenerationRequired)
        {
            throw new NotSupportedException("IncludeVectors is not supported with embedding generation.");
        }

        return Task.FromResult(_rows.TryGetValue(key, out var row) ? row.Record : null);
    }

    public override async IAsyncEnumerable<TRecord> GetAsync(
        System.Linq.Expressions.Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        var predicate = filter.Compile();
        foreach (var row in _rows.Values.Select(r => r.Record).Where(predicate).Skip(options?.Skip ?? 0).Take(top))
        {
            yield return row;
        }
    }

    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default)
    {
        _rows.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default) => UpsertAsync([record], cancellationToken);

    public override async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        var batch = records.ToList();
        var vectors = new ReadOnlyMemory<float>[batch.Count][];
        for (var r = 0; r < batch.Count; r++)
        {
            vectors[r] = new ReadOnlyMemory<float>[_model.VectorProperties.Count];
        }

        for (var p = 0; p < _model.VectorProperties.Count; p++)
        {
            var property = _model.VectorProperties[p];
            if (property.EmbeddingGenerationDispatcher is not null)
            {
                Interlocked.Increment(ref GenerationCalls);
                var embeddings = await property.GenerateEmbeddingsAsync(batch.Select(property.GetValueAsObject), cancellationToken);
                for (var r = 0; r < batch.Count; r++)
                {
                    vectors[r][p] = ((Embedding<float>)embeddings[r]).Vector;
                }
            }
            else
            {
                for (var r = 0; r < batch.Count; r++)
                {
                    vectors[r][p] = ToVector(property.GetValueAsObject(batch[r]));
                }
            }
        }

        for (var r = 0; r < batch.Count; r++)
        {
            _rows[(TKey)_model.KeyProperty.GetValueAsObject(batch[r])!] = (batch[r], vectors[r]);
        }
    }

    public override async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(
        TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var property = _model.GetVectorPropertyOrSingle(options ?? new VectorSearchOptions<TRecord>());
        ReadOnlyMemory<float> query;
        switch (searchValue)
        {
            case ReadOnlyMemory<float> or float[] or Embedding<float>:
                query = ToVector(searchValue);
                break;
            default:
                if (property.EmbeddingGenerationDispatcher is null)
                {
                    throw new NotSupportedException($"Search input {searchValue.GetType().Name} needs an embedding generator.");
                }

                Interlocked.Increment(ref GenerationCalls);
                query = ((Embedding<float>)await property.GenerateEmbeddingAsync(searchValue, cancellationToken)).Vector;
                break;
        }

        var index = _model.VectorProperties.ToList().IndexOf(property);
        var predicate = options?.Filter?.Compile();
        var hits = _rows.Values
            .Where(row => predicate is null || predicate(row.Record))
            .Select(row => new VectorSearchResult<TRecord>(row.Record, TensorPrimitives.CosineSimilarity(query.Span, row.Vectors[index].Span)))
            .OrderByDescending(hit => hit.Score)
            .Skip(options?.Skip ?? 0)
            .Take(top)
            .ToList();
        foreach (var hit in hits)
        {
            yield return hit;
        }
    }

    public override object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    private static ReadOnlyMemory<float> ToVector(object? value) => value switch
    {
        ReadOnlyMemory<float> memory => memory,
        float[] array => array,
        Embedding<float> embedding => embedding.Vector,
        _ => throw new InvalidOperationException($"Unsupported vector value {value?.GetType().Name ?? "null"}."),
    };

    private sealed class ModelBuilder() : CollectionModelBuilder(new CollectionModelBuildingOptions { SupportsMultipleVectors = true, RequiresAtLeastOneVector = false })
    {
        protected override bool IsDataPropertyTypeValid(Type type, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? supportedTypes)
        {
            supportedTypes = null;
            return true;
        }

        protected override bool IsVectorPropertyTypeValid(Type type, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? supportedTypes)
        {
            supportedTypes = "ReadOnlyMemory<float>, float[], Embedding<float>";
            return type == typeof(ReadOnlyMemory<float>) || type == typeof(ReadOnlyMemory<float>?) || type == typeof(float[]) || type == typeof(Embedding<float>);
        }
    }
}
