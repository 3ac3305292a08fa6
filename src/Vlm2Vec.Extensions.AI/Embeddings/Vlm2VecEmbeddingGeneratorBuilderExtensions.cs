using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace Vlm2Vec.Extensions.AI;

/// <summary>Vlm2Vec middleware for <see cref="EmbeddingGeneratorBuilder{TInput, TEmbedding}"/>.</summary>
public static class Vlm2VecEmbeddingGeneratorBuilderExtensions
{
    /// <summary>
    /// Adds a <see cref="Vlm2VecDistributedCachingEmbeddingGenerator"/>: a distributed cache that hashes
    /// <see cref="Vlm2VecContent"/>, keys on the model, and never stores a failed item.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="storage">The cache; null resolves <see cref="IDistributedCache"/> from the services.</param>
    /// <param name="configure">Adjusts the cache generator (for example its <c>CacheKeyAdditionalValues</c>).</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static EmbeddingGeneratorBuilder<AIContent, Embedding<float>> UseVlm2VecDistributedCache(
        this EmbeddingGeneratorBuilder<AIContent, Embedding<float>> builder,
        IDistributedCache? storage = null,
        Action<Vlm2VecDistributedCachingEmbeddingGenerator>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) =>
        {
            storage ??= services.GetRequiredService<IDistributedCache>();
            var cache = new Vlm2VecDistributedCachingEmbeddingGenerator(inner, storage);
            configure?.Invoke(cache);
            return cache;
        });
    }
}
