using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// Mirrors dotnet/extensions' <c>DependencyInjectionTests</c> for <c>AddVlm2VecVectorStore</c> and
/// <c>AddVlm2VecVectorStoreCollection</c>: every lifetime, keyed and unkeyed, concrete types and abstractions
/// (including <see cref="IVectorSearchable{TRecord}"/>), lazy generator resolution, and search through DI.
/// </summary>
public sealed class DependencyInjectionTests : IDisposable
{
    private readonly TempFolder _folder = new("vlm2vec-di");

    public static TheoryData<ServiceLifetime, object?> LifetimesAndServiceKeys()
    {
        var data = new TheoryData<ServiceLifetime, object?>();
        foreach (var lifetime in new[] { ServiceLifetime.Scoped, ServiceLifetime.Singleton, ServiceLifetime.Transient })
        {
            data.Add(lifetime, null);
            data.Add(lifetime, "key");
            data.Add(lifetime, 8);
        }

        return data;
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Arguments_are_checked()
    {
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddVlm2VecVectorStore(databasePath: null));
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddVlm2VecVectorStoreCollection<string, Record>("c"));
        Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddVlm2VecVectorStoreCollection<string, Record>(null!));
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddVlm2VecVectorStoreCollection<string, Record>(string.Empty));
    }

    [Theory]
    [MemberData(nameof(LifetimesAndServiceKeys))]
    public void CanRegisterVectorStore(ServiceLifetime lifetime, object? serviceKey)
    {
        var services = new ServiceCollection();
        services.AddVlm2VecVectorStore(_folder.Combine("store.db"), serviceKey: serviceKey, lifetime: lifetime);
        using var provider = services.BuildServiceProvider();

        Verify<Vlm2VecVectorStore>(provider, lifetime, serviceKey);
        Verify<VectorStore>(provider, lifetime, serviceKey);
    }

    [Theory]
    [MemberData(nameof(LifetimesAndServiceKeys))]
    public void CanRegisterCollections(ServiceLifetime lifetime, object? serviceKey)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator>(new BracketVectorGenerator());
        services.AddVlm2VecVectorStore(databasePath: null, serviceKey: serviceKey);
        services.AddVlm2VecVectorStoreCollection<string, Record>("collection", serviceKey: serviceKey, lifetime: lifetime);
        using var provider = services.BuildServiceProvider();

        Verify<Vlm2VecVectorStoreCollection<string, Record>>(provider, lifetime, serviceKey);
        Verify<VectorStoreCollection<string, Record>>(provider, lifetime, serviceKey);
        Verify<IVectorSearchable<Record>>(provider, lifetime, serviceKey);
        Assert.Null(provider.GetService<IKeywordHybridSearchable<Record>>());
    }

    [Fact]
    public void EmbeddingGeneratorIsResolvedLazily()
    {
        var resolved = false;
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator>(_ =>
        {
            resolved = true;
            return new BracketVectorGenerator();
        });
        services.AddVlm2VecVectorStore(databasePath: null);
        services.AddVlm2VecVectorStoreCollection<string, Record>("collection");

        Assert.False(resolved);
        using var provider = services.BuildServiceProvider();
        Assert.False(resolved);
        _ = provider.GetRequiredService<Vlm2VecVectorStoreCollection<string, Record>>();
        Assert.True(resolved);
    }

    [Fact]
    public void A_collection_without_a_registered_store_fails_with_a_clear_message()
    {
        var services = new ServiceCollection();
        services.AddVlm2VecVectorStoreCollection<string, Record>("collection", serviceKey: "memories");
        using var provider = services.BuildServiceProvider();

        var exception = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredKeyedService<VectorStoreCollection<string, Record>>("memories"));

        Assert.Contains("AddVlm2VecVectorStore", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SearchAsync_with_store_dependency_injection()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator>(new BracketVectorGenerator(replaceLast: 1));
        services.AddVlm2VecVectorStore(_folder.Combine("store.db"));
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<VectorStore>();
        var collection = store.GetCollection<string, Record>("records");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([new Record { Key = "a", Embedding = "[1, 1, 5]" }, new Record { Key = "b", Embedding = "[1, 2, 8]" }]);

        // Stored: [1, 1, 1] and [1, 2, 1]; the query becomes [1, 2, 1].
        var result = await collection.SearchAsync("[1, 2, 0]", top: 1).SingleAsync();

        Assert.Equal("b", result.Record.Key);
        Assert.Equal(1.0, result.Score!.Value, 5);
    }

    [Fact]
    public async Task SearchAsync_with_collection_dependency_injection()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator>(new BracketVectorGenerator(replaceLast: 1));
        services.AddVlm2VecVectorStore(databasePath: null, serviceKey: "memory");
        services.AddVlm2VecVectorStoreCollection<string, Record>(
            "records", options => options.EmbeddingGenerator = new BracketVectorGenerator(replaceLast: 2), serviceKey: "memory");
        await using var provider = services.BuildServiceProvider();
        var collection = provider.GetRequiredKeyedService<IVectorSearchable<Record>>("memory");
        var writable = provider.GetRequiredKeyedService<VectorStoreCollection<string, Record>>("memory");
        await writable.EnsureCollectionExistsAsync();
        await writable.UpsertAsync([new Record { Key = "a", Embedding = "[1, 1, 0]" }, new Record { Key = "b", Embedding = "[1, 2, 0]" }]);

        var result = await collection.SearchAsync("[1, 2, 7]", top: 1).SingleAsync();

        // The collection-level generator (last component 2) won over the store's (1).
        Assert.Equal("b", result.Record.Key);
        Assert.Equal(1.0, result.Score!.Value, 5);
    }

    private static void Verify<TService>(ServiceProvider provider, ServiceLifetime lifetime, object? serviceKey)
        where TService : class
    {
        TService first;
        TService second;
        TService secondAgain;
        using (var scope = provider.CreateScope())
        {
            first = Resolve<TService>(scope.ServiceProvider, serviceKey);
        }

        using (var scope = provider.CreateScope())
        {
            second = Resolve<TService>(scope.ServiceProvider, serviceKey);
            secondAgain = Resolve<TService>(scope.ServiceProvider, serviceKey);
        }

        switch (lifetime)
        {
            case ServiceLifetime.Singleton:
                Assert.Same(first, second);
                Assert.Same(second, secondAgain);
                break;
            case ServiceLifetime.Scoped:
                Assert.NotSame(first, second);
                Assert.Same(second, secondAgain);
                break;
            default:
                Assert.NotSame(first, second);
                Assert.NotSame(second, secondAgain);
                break;
        }
    }

    private static TService Resolve<TService>(IServiceProvider provider, object? serviceKey)
        where TService : notnull =>
        serviceKey is null ? provider.GetRequiredService<TService>() : provider.GetRequiredKeyedService<TService>(serviceKey);

    public sealed class Record
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreVector(3)]
        public string? Embedding { get; set; }
    }
}
