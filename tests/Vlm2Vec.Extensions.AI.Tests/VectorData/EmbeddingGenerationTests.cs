using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// Mirrors dotnet/extensions' <c>EmbeddingGenerationTests</c>: generator precedence (property → definition → collection
/// options → store), custom input types, search-only generation, the error paths and <c>IncludeVectors</c>. Data is
/// seeded once per test into a file through one store instance; the test opens another instance (different generators)
/// on the same file. The bracket generators parse "[a, b, c]" and replace the last component (1: store, 2: collection,
/// 3: property), so the query "[1, 1, 9]" lands on exactly one seeded record per level.
/// </summary>
public sealed class EmbeddingGenerationTests : IDisposable
{
    private const string CollectionName = "EmbeddingGenerationTests";
    private readonly TempFolder _folder = new("vlm2vec-vs");

    private string StorePath => _folder.Combine("store.db");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task SearchAsync_with_property_generator()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(CollectionName, Definition(collectionGenerator: true, propertyGenerator: true));

        var result = await collection.SearchAsync("[1, 1, 9]", top: 1).SingleAsync();

        Assert.Equal("Property ([1, 1, 3])", result.Record.Text);
    }

    [Fact]
    public async Task SearchAsync_with_property_generator_dynamic()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetDynamicCollection(CollectionName, Definition(collectionGenerator: true, propertyGenerator: true));

        var result = await collection.SearchAsync("[1, 1, 9]", top: 1).SingleAsync();

        Assert.Equal("Property ([1, 1, 3])", result.Record[nameof(Record.Text)]);
    }

    [Fact]
    public async Task SearchAsync_with_collection_generator()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(CollectionName, Definition(collectionGenerator: true));

        var result = await collection.SearchAsync("[1, 1, 9]", top: 1).SingleAsync();

        Assert.Equal("Collection ([1, 1, 2])", result.Record.Text);
    }

    [Fact]
    public async Task SearchAsync_with_collection_options_generator()
    {
        // The collection options sit between the definition and the store.
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(
            CollectionName, new Vlm2VecVectorStoreCollectionOptions { Definition = Definition(), EmbeddingGenerator = new BracketVectorGenerator(replaceLast: 2) });

        var result = await collection.SearchAsync("[1, 1, 9]", top: 1).SingleAsync();

        Assert.Equal("Collection ([1, 1, 2])", result.Record.Text);
    }

    [Fact]
    public async Task SearchAsync_with_store_generator()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(CollectionName, Definition());

        var result = await collection.SearchAsync("[1, 1, 9]", top: 1).SingleAsync();

        Assert.Equal("Store ([1, 1, 1])", result.Record.Text);
    }

    [Fact]
    public async Task SearchAsync_with_custom_input_type()
    {
        using var store = new Vlm2VecVectorStore(StorePath, new CustomerGenerator(dimensions: 16));
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(CustomerRecord.Key), typeof(string)),
                new VectorStoreVectorProperty<Customer>(nameof(CustomerRecord.Embedding), dimensions: 16),
                new VectorStoreDataProperty(nameof(CustomerRecord.Text), typeof(string)),
            ],
        };
        var collection = store.GetCollection<string, CustomerRecord>("customers", definition);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(
        [
            new CustomerRecord { Key = "1", Embedding = new Customer { FirstName = "Ada", LastName = "Lovelace" }, Text = "Ada" },
            new CustomerRecord { Key = "2", Embedding = new Customer { FirstName = "Alan", LastName = "Turing" }, Text = "Alan" },
        ]);

        var result = await collection.SearchAsync(new Customer { FirstName = "Alan", LastName = "Turing" }, top: 1).SingleAsync();

        Assert.Equal("Alan", result.Record.Text);
        Assert.Equal(1.0, result.Score!.Value, 5);
        Assert.Null(result.Record.Embedding);
    }

    [Fact]
    public async Task SearchAsync_with_search_only_embedding_generation()
    {
        using var store = new Vlm2VecVectorStore(StorePath);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(RomRecord.Key), typeof(string)),
                new VectorStoreVectorProperty(nameof(RomRecord.Embedding), typeof(ReadOnlyMemory<float>), dimensions: 3),
                new VectorStoreDataProperty(nameof(RomRecord.Text), typeof(string)),
            ],
            EmbeddingGenerator = new BracketVectorGenerator(),
        };
        var collection = store.GetCollection<string, RomRecord>("search-only", definition);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(
        [
            new RomRecord { Key = "a", Embedding = new float[] { 1, 1, 1 }, Text = "[1, 1, 1]" },
            new RomRecord { Key = "b", Embedding = new float[] { 1, 1, 3 }, Text = "[1, 1, 3]" },
        ]);

        var result = await collection.SearchAsync("[1, 1, 3]", top: 1).SingleAsync();

        Assert.Equal("[1, 1, 3]", result.Record.Text);

        // Native vectors are stored as given, so reading them back is allowed.
        var withVector = await collection.GetAsync("a", new() { IncludeVectors = true });
        Assert.Equal([1f, 1f, 1f], withVector!.Embedding.ToArray());
    }

    [Fact]
    public async Task SearchAsync_string_without_generator_throws()
    {
        using var store = new Vlm2VecVectorStore(StorePath);
        var collection = store.GetCollection<string, RawRecord>(CollectionName + "withoutgenerator");

        var exception = await Assert.ThrowsAsync<NotSupportedException>(() => collection.SearchAsync("foo", top: 1).ToListAsync().AsTask());

        Assert.StartsWith(
            "A value of type 'string' was passed to 'SearchAsync', but that isn't a supported vector type by your provider and no embedding generator was configured. The supported vector types are:",
            exception.Message);
    }

    [Fact]
    public async Task SearchAsync_with_incompatible_generator_throws()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(CollectionName, Definition(collectionGenerator: true, propertyGenerator: true));

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => collection.SearchAsync(8, top: 1).ToListAsync().AsTask());

        Assert.Equal($"An input of type 'int' was provided, but an incompatible embedding generator of type '{nameof(BracketVectorGenerator)}' was configured.", exception.Message);
    }

    [Fact]
    public async Task UpsertAsync()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(CollectionName, Definition(collectionGenerator: true, propertyGenerator: true));

        await collection.UpsertAsync(new Record { Key = "new", Embedding = "[100, 1, 0]", Counter = 100, Text = nameof(UpsertAsync) });

        // The property generator (replaceLast: 3) embedded it.
        var result = await collection.SearchAsync(new ReadOnlyMemory<float>([100, 1, 3]), top: 1).SingleAsync();
        Assert.Equal(100, result.Record.Counter);
        Assert.Equal(1.0, result.Score!.Value, 5);
    }

    [Fact]
    public async Task UpsertAsync_dynamic()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetDynamicCollection(CollectionName, Definition(collectionGenerator: true, propertyGenerator: true));

        await collection.UpsertAsync(new Dictionary<string, object?>
        {
            [nameof(Record.Key)] = "dynamic",
            [nameof(Record.Embedding)] = "[200, 1, 0]",
            [nameof(Record.Counter)] = 200,
            [nameof(Record.Text)] = nameof(UpsertAsync_dynamic),
        });

        var result = await collection.SearchAsync(new ReadOnlyMemory<float>([200, 1, 3]), top: 1).SingleAsync();
        Assert.Equal(200, result.Record[nameof(Record.Counter)]);
    }

    [Fact]
    public async Task UpsertAsync_batch()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var propertyGenerator = new BracketVectorGenerator(replaceLast: 3);
        var definition = Definition();
        definition.Properties.OfType<VectorStoreVectorProperty>().Single().EmbeddingGenerator = propertyGenerator;
        var collection = store.GetCollection<string, Record>(CollectionName, definition);

        await collection.UpsertAsync(
        [
            new Record { Key = "b1", Embedding = "[300, 1, 0]", Counter = 301, Text = "batch 1" },
            new Record { Key = "b2", Embedding = "[400, 1, 0]", Counter = 302, Text = "batch 2" },
        ]);

        Assert.Equal(1, propertyGenerator.Calls);
        Assert.Equal(301, (await collection.SearchAsync(new ReadOnlyMemory<float>([300, 1, 3]), top: 1).SingleAsync()).Record.Counter);
        Assert.Equal(302, (await collection.SearchAsync(new ReadOnlyMemory<float>([400, 1, 3]), top: 1).SingleAsync()).Record.Counter);
    }

    [Fact]
    public async Task UpsertAsync_batch_dynamic()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetDynamicCollection(CollectionName, Definition(propertyGenerator: true));

        await collection.UpsertAsync(
        [
            new Dictionary<string, object?> { ["Key"] = "d1", ["Embedding"] = "[500, 1, 0]", ["Counter"] = 501, ["Text"] = "1" },
            new Dictionary<string, object?> { ["Key"] = "d2", ["Embedding"] = "[600, 1, 0]", ["Counter"] = 502, ["Text"] = "2" },
        ]);

        Assert.Equal(501, (await collection.SearchAsync(new ReadOnlyMemory<float>([500, 1, 3]), top: 1).SingleAsync()).Record["Counter"]);
        Assert.Equal(502, (await collection.SearchAsync(new ReadOnlyMemory<float>([600, 1, 3]), top: 1).SingleAsync()).Record["Counter"]);
    }

    [Fact]
    public async Task SearchAsync_with_IncludeVectors_throws()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(CollectionName, Definition(propertyGenerator: true));

        var exception = await Assert.ThrowsAsync<NotSupportedException>(
            () => collection.SearchAsync("[1, 0, 0]", top: 1, new() { IncludeVectors = true }).ToListAsync().AsTask());

        Assert.Equal("When an embedding generator is configured, `Include Vectors` cannot be enabled.", exception.Message);
    }

    [Fact]
    public async Task GetAsync_with_IncludeVectors_throws()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(CollectionName, Definition(propertyGenerator: true));

        var exception = await Assert.ThrowsAsync<NotSupportedException>(() => collection.GetAsync("store", new() { IncludeVectors = true }));

        Assert.Equal("When an embedding generator is configured, `Include Vectors` cannot be enabled.", exception.Message);
    }

    [Fact]
    public async Task GetAsync_enumerable_with_IncludeVectors_throws()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(CollectionName, Definition(propertyGenerator: true));

        var exception = await Assert.ThrowsAsync<NotSupportedException>(
            () => collection.GetAsync(["store", "collection"], new() { IncludeVectors = true }).ToListAsync().AsTask());

        Assert.Equal("When an embedding generator is configured, `Include Vectors` cannot be enabled.", exception.Message);
    }

    [Fact]
    public async Task Generated_vectors_are_not_returned_and_the_input_is_not_stored()
    {
        using var store = await SeededStoreAsync(storeGenerator: true);
        var collection = store.GetCollection<string, Record>(CollectionName, Definition());

        var record = await collection.GetAsync("store");

        Assert.NotNull(record);
        Assert.Equal("Store ([1, 1, 1])", record.Text);
        Assert.Null(record.Embedding);
    }

    [Fact]
    public async Task Upsert_with_generator_returning_wrong_dimensions_throws_and_writes_nothing()
    {
        using var store = new Vlm2VecVectorStore(StorePath, new BracketVectorGenerator());
        var collection = store.GetCollection<string, Record>(CollectionName, Definition());
        await collection.EnsureCollectionExistsAsync();

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(
            () => collection.UpsertAsync([new Record { Key = "ok", Embedding = "[1, 2, 3]" }, new Record { Key = "bad", Embedding = "[1, 2, 3, 4]" }]));

        Assert.Contains("returned a 4-dimensional vector for input 1", exception.Message, StringComparison.Ordinal);
        Assert.Null(await collection.GetAsync("ok"));
    }

    private static VectorStoreCollectionDefinition Definition(bool collectionGenerator = false, bool propertyGenerator = false)
    {
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(Record.Key), typeof(string)),
                new VectorStoreVectorProperty(nameof(Record.Embedding), typeof(string), dimensions: 3)
                {
                    EmbeddingGenerator = propertyGenerator ? new BracketVectorGenerator(replaceLast: 3) : null,
                },
                new VectorStoreDataProperty(nameof(Record.Counter), typeof(int)) { IsIndexed = true },
                new VectorStoreDataProperty(nameof(Record.Text), typeof(string)),
            ],
            EmbeddingGenerator = collectionGenerator ? new BracketVectorGenerator(replaceLast: 2) : null,
        };
        return definition;
    }

    /// <summary>Seeds [1,1,1] "Store", [1,1,2] "Collection", [1,1,3] "Property" with an unmodified generator, then opens a fresh store.</summary>
    private async Task<Vlm2VecVectorStore> SeededStoreAsync(bool storeGenerator)
    {
        using (var seeding = new Vlm2VecVectorStore(StorePath, new BracketVectorGenerator()))
        {
            var collection = seeding.GetCollection<string, Record>(CollectionName, Definition());
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync(
            [
                new Record { Key = "store", Embedding = "[1, 1, 1]", Counter = 1, Text = "Store ([1, 1, 1])" },
                new Record { Key = "collection", Embedding = "[1, 1, 2]", Counter = 2, Text = "Collection ([1, 1, 2])" },
                new Record { Key = "property", Embedding = "[1, 1, 3]", Counter = 3, Text = "Property ([1, 1, 3])" },
            ]);
        }

        return new Vlm2VecVectorStore(StorePath, storeGenerator ? new BracketVectorGenerator(replaceLast: 1) : null);
    }

    public sealed class Record
    {
        public string Key { get; set; } = string.Empty;

        public string? Embedding { get; set; }

        public int Counter { get; set; }

        public string? Text { get; set; }
    }

    public sealed class CustomerRecord
    {
        public string Key { get; set; } = string.Empty;

        public Customer? Embedding { get; set; }

        public string? Text { get; set; }
    }

    public sealed class RomRecord
    {
        public string Key { get; set; } = string.Empty;

        public ReadOnlyMemory<float> Embedding { get; set; }

        public string? Text { get; set; }
    }

    public sealed class RawRecord
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreVector(3)]
        public ReadOnlyMemory<float> Embedding { get; set; }
    }
}
