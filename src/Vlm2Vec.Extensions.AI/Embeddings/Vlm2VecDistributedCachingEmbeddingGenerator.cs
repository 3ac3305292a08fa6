using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// The distributed cache for Vlm2Vec pipelines: Microsoft.Extensions.AI's <see cref="DistributedCachingEmbeddingGenerator{TInput, TEmbedding}"/>
/// with <see cref="Vlm2VecJsonUtilities.DefaultOptions"/> (so <see cref="Vlm2VecContent"/> can be hashed), the model's
/// <see cref="Vlm2VecEmbeddingGenerator.CacheIdentity"/> in every key, and no entry for a failed item
/// (<see cref="Vlm2VecItemErrorMode.ReturnEmpty"/>), so that a bad image is tried again rather than served empty.
/// </summary>
public sealed class Vlm2VecDistributedCachingEmbeddingGenerator : DistributedCachingEmbeddingGenerator<AIContent, Embedding<float>>
{
    /// <summary>Creates the cache over <paramref name="innerGenerator"/>, storing entries in <paramref name="storage"/>.</summary>
    public Vlm2VecDistributedCachingEmbeddingGenerator(IEmbeddingGenerator<AIContent, Embedding<float>> innerGenerator, IDistributedCache storage)
        : base(innerGenerator, storage)
    {
        JsonSerializerOptions = Vlm2VecJsonUtilities.DefaultOptions;
        if (innerGenerator.GetService(typeof(Vlm2VecEmbeddingGenerator)) is Vlm2VecEmbeddingGenerator vlm2vec)
        {
            CacheKeyAdditionalValues = [vlm2vec.CacheIdentity];
        }
    }

    /// <inheritdoc />
    protected override Task WriteCacheAsync(string key, Embedding<float> value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.GetVlm2VecError() is null ? base.WriteCacheAsync(key, value, cancellationToken) : Task.CompletedTask;
    }
}
