using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// Mirrors dotnet/extensions' <c>BasicModelTests</c> (get, upsert, delete, search with skip and filter), each against
/// the in-memory store and against a file-backed store that was closed and reopened after seeding.
/// </summary>
public sealed class BasicModelTests
{
    private const string CollectionName = "BasicModelTests";

    private static readonly Record[] TestData =
    [
        new() { Key = "k1", Number = 1, Text = "foo", Vector = new float[] { 1, 2, 3 } },
        new() { Key = "k2", Number = 2, Text = "bar", Vector = new float[] { 1, 2, 4 } },
        new() { Key = "k3", Number = 3, Text = "foo", Vector = new float[] { 3, 4, 5 } },
        new() { Key = "k4", Number = 4, Text = "baz", Vector = new float[] { 10, 20, 1 } },
    ];

    public static TheoryData<bool> Persisted => [false, true];

    public static TheoryData<bool, bool> PersistedAndIncludeVectors => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(PersistedAndIncludeVectors))]
    public async Task GetAsync_single_record(bool persisted, bool includeVectors)
    {
        using var test = await SeedAsync(persisted);

        var received = await Collection(test).GetAsync("k1", new() { IncludeVectors = includeVectors });

        AssertEqual(TestData[0], received, includeVectors);
    }

    [Theory]
    [MemberData(nameof(PersistedAndIncludeVectors))]
    public async Task GetAsync_multiple_records(bool persisted, bool includeVectors)
    {
        using var test = await SeedAsync(persisted);

        var received = await Collection(test).GetAsync(["k1", "k2"], new() { IncludeVectors = includeVectors }).ToListAsync();

        Assert.Equal(2, received.Count);
        AssertEqual(TestData[0], received.Single(r => r.Key == "k1"), includeVectors);
        AssertEqual(TestData[1], received.Single(r => r.Key == "k2"), includeVectors);
    }

    [Fact]
    public async Task GetAsync_throws_for_null_key()
    {
        using var test = await SeedAsync(persisted: false);
        var exception = await Assert.ThrowsAsync<ArgumentNullException>(() => Collection(test).GetAsync((string)null!));
        Assert.Equal("key", exception.ParamName);
    }

    [Fact]
    public async Task GetAsync_throws_for_null_keys()
    {
        using var test = await SeedAsync(persisted: false);
        var exception = await Assert.ThrowsAsync<ArgumentNullException>(() => Collection(test).GetAsync(keys: null!).ToArrayAsync().AsTask());
        Assert.Equal("keys", exception.ParamName);
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task GetAsync_returns_null_for_missing_key(bool persisted)
    {
        using var test = await SeedAsync(persisted);
        Assert.Null(await Collection(test).GetAsync("missing"));
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task GetAsync_multiple_records_with_missing_keys_returns_only_existing(bool persisted)
    {
        using var test = await SeedAsync(persisted);

        var received = await Collection(test).GetAsync(["k1", "missing", "k2"]).ToListAsync();

        Assert.Equal(["k1", "k2"], received.Select(r => r.Key));
    }

    [Fact]
    public async Task GetAsync_returns_empty_for_empty_keys()
    {
        using var test = await SeedAsync(persisted: false);
        Assert.Empty(await Collection(test).GetAsync([]).ToArrayAsync());
    }

    [Theory]
    [MemberData(nameof(PersistedAndIncludeVectors))]
    public async Task GetAsync_with_filter(bool persisted, bool includeVectors)
    {
        using var test = await SeedAsync(persisted);

        var results = await Collection(test).GetAsync(r => r.Number == 1, top: 2, new() { IncludeVectors = includeVectors }).ToListAsync();

        AssertEqual(TestData[0], Assert.Single(results), includeVectors);
    }

    [Fact]
    public async Task GetAsync_with_filter_by_true()
    {
        using var test = await SeedAsync(persisted: true);
        Assert.Equal(TestData.Length, await Collection(test).GetAsync(r => true, top: 100).CountAsync());
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task GetAsync_with_filter_and_OrderBy(bool persisted)
    {
        using var test = await SeedAsync(persisted);
        var collection = Collection(test);

        var ascending = await collection.GetAsync(r => r.Number > 1, top: 2, new() { OrderBy = o => o.Ascending(r => r.Number) }).Select(r => r.Number).ToListAsync();
        var descending = await collection.GetAsync(r => r.Number > 1, top: 2, new() { OrderBy = o => o.Descending(r => r.Number) }).Select(r => r.Number).ToListAsync();

        Assert.Equal([2, 3], ascending);
        Assert.Equal([4, 3], descending);
    }

    [Fact]
    public async Task GetAsync_with_filter_and_multiple_OrderBys()
    {
        using var test = await SeedAsync(persisted: false);
        var collection = Collection(test);

        var thenAscending = await collection.GetAsync(r => true, top: 2, new() { OrderBy = o => o.Descending(r => r.Text).Ascending(r => r.Number) }).Select(r => r.Number).ToListAsync();
        var thenDescending = await collection.GetAsync(r => true, top: 2, new() { OrderBy = o => o.Descending(r => r.Text).Descending(r => r.Number) }).Select(r => r.Number).ToListAsync();

        Assert.Equal([1, 3], thenAscending);
        Assert.Equal([3, 1], thenDescending);
    }

    [Fact]
    public async Task GetAsync_with_filter_and_OrderBy_and_Skip()
    {
        using var test = await SeedAsync(persisted: false);

        var results = await Collection(test).GetAsync(r => r.Number > 1, top: 2, new() { OrderBy = o => o.Ascending(r => r.Number), Skip = 1 }).Select(r => r.Number).ToListAsync();

        Assert.Equal([3, 4], results);
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task Insert_single_record(bool persisted)
    {
        using var test = await SeedAsync(persisted);
        var inserted = new Record { Key = "new", Text = "New record", Number = 123, Vector = new float[] { 10, 0, 0 } };

        await Collection(test).UpsertAsync(inserted);

        AssertEqual(inserted, await Collection(test.Reopen()).GetAsync("new", new() { IncludeVectors = true }), includeVectors: true);
        Assert.Equal(TestData.Length + 1, await Collection(test).GetAsync(r => true, top: 100).CountAsync());
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task Update_single_record(bool persisted)
    {
        using var test = await SeedAsync(persisted);
        var updated = new Record { Key = "k2", Text = "Updated record", Number = 456, Vector = new float[] { 10, 0, 0 } };

        await Collection(test).UpsertAsync(updated);

        AssertEqual(updated, await Collection(test.Reopen()).GetAsync("k2", new() { IncludeVectors = true }), includeVectors: true);
        Assert.Equal(TestData.Length, await Collection(test).GetAsync(r => true, top: 100).CountAsync());
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task Insert_and_update_in_same_batch(bool persisted)
    {
        using var test = await SeedAsync(persisted);
        Record[] records =
        [
            new() { Key = "new", Number = 101, Text = "New record", Vector = new float[] { 10, 0, 1 } },
            new() { Key = "k1", Number = 102, Text = "Updated record", Vector = new float[] { 10, 0, 2 } },
        ];

        await Collection(test).UpsertAsync(records);

        var received = await Collection(test.Reopen()).GetAsync(["new", "k1"], new() { IncludeVectors = true }).ToListAsync();
        AssertEqual(records[0], received.Single(r => r.Key == "new"), includeVectors: true);
        AssertEqual(records[1], received.Single(r => r.Key == "k1"), includeVectors: true);
    }

    [Fact]
    public async Task Repeated_key_in_one_batch_keeps_the_last()
    {
        using var test = await SeedAsync(persisted: true);

        await Collection(test).UpsertAsync(
        [
            new Record { Key = "twice", Number = 1, Vector = new float[] { 1, 0, 0 } },
            new Record { Key = "twice", Number = 2, Vector = new float[] { 0, 1, 0 } },
        ]);

        var received = await Collection(test.Reopen()).GetAsync("twice", new() { IncludeVectors = true });
        Assert.Equal(2, received!.Number);
        Assert.Equal([0f, 1f, 0f], received.Vector.ToArray());
    }

    [Fact]
    public async Task UpsertAsync_throws_for_null_batch()
    {
        using var test = await SeedAsync(persisted: false);
        var exception = await Assert.ThrowsAsync<ArgumentNullException>(() => Collection(test).UpsertAsync(records: null!));
        Assert.Equal("records", exception.ParamName);
    }

    [Fact]
    public async Task UpsertAsync_does_nothing_for_empty_batch()
    {
        using var test = await SeedAsync(persisted: true);
        await Collection(test).UpsertAsync([]);
        Assert.Equal(TestData.Length, await Collection(test).GetAsync(r => true, top: 100).CountAsync());
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task UpsertAsync_with_a_bad_record_names_it_and_writes_nothing(bool persisted)
    {
        using var test = await SeedAsync(persisted);
        Record[] records =
        [
            new() { Key = "good", Number = 7, Vector = new float[] { 1, 1, 1 } },
            new() { Key = "bad", Number = 8, Vector = new float[] { 1, 1 } },
        ];

        var exception = await Assert.ThrowsAsync<BatchItemException>(() => Collection(test).UpsertAsync(records));

        Assert.Equal(1, exception.ItemIndex);
        Assert.Contains("'Vector' has 2 dimensions; the collection stores 3", exception.Message, StringComparison.Ordinal);
        Assert.Null(await Collection(test.Reopen()).GetAsync("good"));
    }

    [Fact]
    public async Task Non_finite_vectors_are_refused()
    {
        using var test = await SeedAsync(persisted: false);
        var collection = Collection(test);

        var upsert = await Assert.ThrowsAsync<BatchItemException>(
            () => collection.UpsertAsync([new Record { Key = "nan", Vector = new float[] { 1, float.NaN, 0 } }]));
        var search = await Assert.ThrowsAsync<ArgumentException>(
            () => collection.SearchAsync(new float[] { float.PositiveInfinity, 0, 0 }, top: 1).ToListAsync().AsTask());

        Assert.Contains("NaN or infinity", upsert.Message, StringComparison.Ordinal);
        Assert.Contains("NaN or infinity", search.Message, StringComparison.Ordinal);
        Assert.Null(await collection.GetAsync("nan"));
    }

    [Fact]
    public async Task UpsertAsync_single_bad_record_throws_ArgumentException()
    {
        using var test = await SeedAsync(persisted: false);
        var exception = await Assert.ThrowsAsync<ArgumentException>(
            () => Collection(test).UpsertAsync(new Record { Key = "bad", Vector = new float[] { 1, 1, 1, 1 } }));
        Assert.Equal("record", exception.ParamName);
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task Delete_single_record(bool persisted)
    {
        using var test = await SeedAsync(persisted);

        await Collection(test).DeleteAsync("k1");

        Assert.Null(await Collection(test.Reopen()).GetAsync("k1"));
        Assert.Equal(TestData.Length - 1, await Collection(test).GetAsync(r => true, top: 100).CountAsync());
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task Delete_multiple_records(bool persisted)
    {
        using var test = await SeedAsync(persisted);

        await Collection(test).DeleteAsync(["k1", "k2"]);

        Assert.Empty(await Collection(test.Reopen()).GetAsync(["k1", "k2"]).ToArrayAsync());
        Assert.Equal(["k3", "k4"], (await Collection(test).SearchAsync(new float[] { 1, 2, 3 }, top: 10).ToListAsync()).Select(r => r.Record.Key).Order());
    }

    [Fact]
    public async Task DeleteAsync_does_nothing_for_non_existing_key()
    {
        using var test = await SeedAsync(persisted: true);
        await Collection(test).DeleteAsync("missing");
        Assert.Equal(TestData.Length, await Collection(test).GetAsync(r => true, top: 100).CountAsync());
    }

    [Fact]
    public async Task DeleteAsync_does_nothing_for_empty_batch()
    {
        using var test = await SeedAsync(persisted: false);
        await Collection(test).DeleteAsync([]);
        Assert.Equal(TestData.Length, await Collection(test).GetAsync(r => true, top: 100).CountAsync());
    }

    [Fact]
    public async Task DeleteAsync_throws_for_null_keys()
    {
        using var test = await SeedAsync(persisted: false);
        var exception = await Assert.ThrowsAsync<ArgumentNullException>(() => Collection(test).DeleteAsync(keys: null!));
        Assert.Equal("keys", exception.ParamName);
    }

    [Fact]
    public async Task Deleted_slots_are_reused_and_stay_searchable()
    {
        using var test = await SeedAsync(persisted: true);
        var collection = Collection(test);
        await collection.DeleteAsync(["k1", "k2"]);
        await collection.UpsertAsync([new Record { Key = "k5", Number = 5, Vector = new float[] { 1, 2, 3 } }, new Record { Key = "k6", Number = 6, Vector = new float[] { 0, 0, 1 } }]);

        var results = await Collection(test.Reopen()).SearchAsync(new float[] { 1, 2, 3 }, top: 10).ToListAsync();

        Assert.Equal(["k5", "k3", "k6", "k4"], results.Select(r => r.Record.Key));
    }

    [Theory]
    [MemberData(nameof(PersistedAndIncludeVectors))]
    public async Task SearchAsync(bool persisted, bool includeVectors)
    {
        using var test = await SeedAsync(persisted);

        var result = await Collection(test).SearchAsync(TestData[0].Vector, top: 1, new() { IncludeVectors = includeVectors }).SingleAsync();

        AssertEqual(TestData[0], result.Record, includeVectors);
        Assert.Equal(1.0, result.Score!.Value, 5);
    }

    [Fact]
    public async Task SearchAsync_with_Skip()
    {
        using var test = await SeedAsync(persisted: false);

        var result = await Collection(test).SearchAsync(TestData[0].Vector, top: 1, new() { Skip = 1 }).SingleAsync();

        AssertEqual(TestData[1], result.Record, includeVectors: false);
    }

    [Fact]
    public async Task SearchAsync_with_Filter()
    {
        using var test = await SeedAsync(persisted: true);

        var result = await Collection(test).SearchAsync(TestData[0].Vector, top: 1, new() { Filter = r => r.Number == 2 }).SingleAsync();

        AssertEqual(TestData[1], result.Record, includeVectors: false);
    }

    [Fact]
    public async Task SearchAsync_accepts_float_arrays_and_embeddings()
    {
        using var test = await SeedAsync(persisted: false);
        var collection = Collection(test);

        var byArray = await collection.SearchAsync(new float[] { 3, 4, 5 }, top: 1).SingleAsync();
        var byEmbedding = await collection.SearchAsync(new Microsoft.Extensions.AI.Embedding<float>(new float[] { 10, 20, 1 }), top: 1).SingleAsync();

        Assert.Equal("k3", byArray.Record.Key);
        Assert.Equal("k4", byEmbedding.Record.Key);
    }

    [Fact]
    public async Task SearchAsync_with_a_query_of_the_wrong_size_throws()
    {
        using var test = await SeedAsync(persisted: false);
        var exception = await Assert.ThrowsAsync<ArgumentException>(() => Collection(test).SearchAsync(new float[] { 1, 2 }, top: 1).ToListAsync().AsTask());
        Assert.Contains("2 dimensions", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Returned_records_are_copies()
    {
        using var test = await SeedAsync(persisted: false);
        var collection = Collection(test);
        var first = await collection.GetAsync("k1", new() { IncludeVectors = true });
        first!.Text = "changed";
        first.Tags!.Add("changed");
        var array = first.Vector.ToArray();
        array[0] = 99;

        var again = await collection.GetAsync("k1", new() { IncludeVectors = true });

        Assert.Equal("foo", again!.Text);
        Assert.Equal(["t1"], again.Tags);
        Assert.Equal([1f, 2f, 3f], again.Vector.ToArray());
    }

    [Fact]
    public async Task Operations_on_a_missing_collection_throw_VectorStoreException()
    {
        using var test = new StoreUnderTest(persisted: false);
        var collection = test.Store.GetCollection<string, Record>("missing");

        var exception = await Assert.ThrowsAsync<VectorStoreException>(() => collection.GetAsync("k1"));

        Assert.Equal("missing", exception.CollectionName);
        Assert.Equal(Vlm2VecVectorStore.SystemName, exception.VectorStoreSystemName);
        await Assert.ThrowsAsync<VectorStoreException>(() => collection.UpsertAsync(TestData[0]));
        await Assert.ThrowsAsync<VectorStoreException>(() => collection.SearchAsync(new float[] { 1, 2, 3 }, top: 1).ToListAsync().AsTask());
    }

    [Fact]
    public async Task A_disposed_store_refuses_operations()
    {
        var test = await SeedAsync(persisted: true);
        var collection = Collection(test);
        test.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => collection.GetAsync("k1"));
    }

    private static Vlm2VecVectorStoreCollection<string, Record> Collection(StoreUnderTest test) => Collection(test.Store);

    private static Vlm2VecVectorStoreCollection<string, Record> Collection(Vlm2VecVectorStore store) => store.GetCollection<string, Record>(CollectionName);

    private static async Task<StoreUnderTest> SeedAsync(bool persisted)
    {
        var test = new StoreUnderTest(persisted);
        var collection = Collection(test);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(TestData.Select(r => new Record { Key = r.Key, Number = r.Number, Text = r.Text, Tags = ["t" + r.Number], Vector = r.Vector.ToArray() }));
        test.Reopen();
        return test;
    }

    private static void AssertEqual(Record expected, Record? actual, bool includeVectors)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Key, actual.Key);
        Assert.Equal(expected.Number, actual.Number);
        Assert.Equal(expected.Text, actual.Text);
        if (includeVectors)
        {
            Assert.Equal(expected.Vector.ToArray(), actual.Vector.ToArray());
        }
        else
        {
            Assert.True(actual.Vector.IsEmpty);
        }
    }

    public sealed class Record
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData(IsIndexed = true)]
        public int Number { get; set; }

        [VectorStoreData]
        public string? Text { get; set; }

        [VectorStoreData]
        public List<string>? Tags { get; set; }

        [VectorStoreVector(3)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }
}
