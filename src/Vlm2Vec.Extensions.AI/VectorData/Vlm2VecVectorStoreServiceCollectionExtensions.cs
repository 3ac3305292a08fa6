using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Vlm2Vec embedded vector store and its collections in a service collection.</summary>
public static class Vlm2VecVectorStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="Vlm2VecVectorStore"/> as itself and as <see cref="VectorStore"/> (keyed by
    /// <paramref name="serviceKey"/> when given). Unless <paramref name="configure"/> sets one, the store's default
    /// embedding generator is the non-generic <see cref="IEmbeddingGenerator"/> registered in the container (the last
    /// <c>AddEmbeddingGenerator</c> call registers it), resolved when the store is first resolved.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="databasePath">The SQLite file; null for an in-memory store.</param>
    /// <param name="configure">Adjusts the options (generator, durability, parallelism, …).</param>
    /// <param name="serviceKey">The service key, or null for unkeyed registrations.</param>
    /// <param name="lifetime">The lifetime. Stores opened on the same file share one connection and index whatever the lifetime.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddVlm2VecVectorStore(
        this IServiceCollection services,
        string? databasePath,
        Action<Vlm2VecVectorStoreOptions>? configure = null,
        object? serviceKey = null,
        ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Add(new ServiceDescriptor(
            typeof(Vlm2VecVectorStore),
            serviceKey,
            (provider, _) =>
            {
                var options = new Vlm2VecVectorStoreOptions { DatabasePath = databasePath };
                configure?.Invoke(options);
                options.EmbeddingGenerator ??= provider.GetService<IEmbeddingGenerator>();
                options.LoggerFactory ??= provider.GetService<ILoggerFactory>();
                return new Vlm2VecVectorStore(options);
            },
            lifetime));
        services.Add(new ServiceDescriptor(
            typeof(VectorStore), serviceKey, (provider, key) => provider.GetRequiredKeyedService<Vlm2VecVectorStore>(key), lifetime));
        return services;
    }

    /// <summary>
    /// Registers a collection of the <see cref="Vlm2VecVectorStore"/> registered with the same
    /// <paramref name="serviceKey"/> (call <see cref="AddVlm2VecVectorStore"/> too) as
    /// <see cref="Vlm2VecVectorStoreCollection{TKey, TRecord}"/>, <see cref="VectorStoreCollection{TKey, TRecord}"/> and
    /// <see cref="IVectorSearchable{TRecord}"/>, the last being what Semantic Kernel's <c>AddVectorStoreTextSearch</c>
    /// resolves. The collection is not created: call <c>EnsureCollectionExistsAsync</c> before first use.
    /// </summary>
    /// <typeparam name="TKey">string, Guid, int or long.</typeparam>
    /// <typeparam name="TRecord">The record type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="collectionName">The collection name.</param>
    /// <param name="configure">Sets the collection's definition and embedding generator.</param>
    /// <param name="serviceKey">The service key of the store and of these registrations, or null.</param>
    /// <param name="lifetime">The lifetime.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddVlm2VecVectorStoreCollection<TKey, TRecord>(
        this IServiceCollection services,
        string collectionName,
        Action<Vlm2VecVectorStoreCollectionOptions>? configure = null,
        object? serviceKey = null,
        ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(collectionName);
        services.Add(new ServiceDescriptor(
            typeof(Vlm2VecVectorStoreCollection<TKey, TRecord>),
            serviceKey,
            (provider, key) =>
            {
                var store = provider.GetKeyedService<Vlm2VecVectorStore>(key)
                    ?? throw new InvalidOperationException(
                        $"No Vlm2VecVectorStore is registered{(key is null ? string.Empty : $" with key '{key}'")}; call AddVlm2VecVectorStore before resolving collection '{collectionName}'.");
                var options = new Vlm2VecVectorStoreCollectionOptions();
                configure?.Invoke(options);
                return store.GetCollection<TKey, TRecord>(collectionName, options);
            },
            lifetime));
        services.Add(new ServiceDescriptor(
            typeof(VectorStoreCollection<TKey, TRecord>),
            serviceKey,
            (provider, key) => provider.GetRequiredKeyedService<Vlm2VecVectorStoreCollection<TKey, TRecord>>(key),
            lifetime));
        services.Add(new ServiceDescriptor(
            typeof(IVectorSearchable<TRecord>),
            serviceKey,
            (provider, key) => provider.GetRequiredKeyedService<Vlm2VecVectorStoreCollection<TKey, TRecord>>(key),
            lifetime));
        return services;
    }
}
