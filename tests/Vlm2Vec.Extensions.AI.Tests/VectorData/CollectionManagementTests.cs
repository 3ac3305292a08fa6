using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// Mirrors dotnet/extensions' <c>CollectionManagementTests</c> and <c>DynamicModelTests</c>: create, exists, list,
/// delete (in memory and on file, across reopen), several record types and the dynamic view over one collection, and
/// the checks that keep an incompatible record type away from stored data.
/// </summary>
public sealed class CollectionManagementTests
{
    public static TheoryData<bool> Persisted => [false, true];

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task Create_exists_list_and_delete(bool persisted)
    {
        using var test = new StoreUnderTest(persisted);
        var collection = test.Store.GetCollection<string, Note>("notes");
        Assert.False(await collection.CollectionExistsAsync());
        Assert.False(await test.Store.CollectionExistsAsync("notes"));

        await collection.EnsureCollectionExistsAsync();
        await collection.EnsureCollectionExistsAsync();
        await test.Store.GetCollection<string, Note>("other collection; DROP TABLE x; ünïcödé").EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new Note { Key = "n1", Text = "hello", Vector = new float[] { 1, 0 } });

        var store = test.Reopen();
        Assert.True(await store.CollectionExistsAsync("notes"));
        Assert.Equal(["notes", "other collection; DROP TABLE x; ünïcödé"], await store.ListCollectionNamesAsync().ToListAsync());
        Assert.Equal("hello", (await store.GetCollection<string, Note>("notes").GetAsync("n1"))!.Text);

        await store.EnsureCollectionDeletedAsync("notes");
        await store.EnsureCollectionDeletedAsync("notes");
        Assert.False(await store.CollectionExistsAsync("notes"));

        store = test.Reopen();
        Assert.Equal(["other collection; DROP TABLE x; ünïcödé"], await store.ListCollectionNamesAsync().ToListAsync());
        var recreated = store.GetCollection<string, Note>("notes");
        await recreated.EnsureCollectionExistsAsync();
        Assert.Null(await recreated.GetAsync("n1"));
    }

    [Fact]
    public async Task A_view_taken_before_delete_and_recreate_sees_the_new_collection()
    {
        using var test = new StoreUnderTest(persisted: true);
        var view = test.Store.GetCollection<string, Note>("notes");
        await view.EnsureCollectionExistsAsync();
        await view.UpsertAsync(new Note { Key = "old", Vector = new float[] { 1, 0 } });

        await view.EnsureCollectionDeletedAsync();
        await Assert.ThrowsAsync<VectorStoreException>(() => view.GetAsync("old"));
        await view.EnsureCollectionExistsAsync();
        await view.UpsertAsync(new Note { Key = "new", Vector = new float[] { 0, 1 } });

        Assert.Null(await view.GetAsync("old"));
        Assert.NotNull(await view.GetAsync("new"));
    }

    [Theory]
    [MemberData(nameof(Persisted))]
    public async Task Typed_and_dynamic_views_share_one_collection(bool persisted)
    {
        using var test = new StoreUnderTest(persisted);
        var typed = test.Store.GetCollection<string, Note>("notes");
        await typed.EnsureCollectionExistsAsync();
        await typed.UpsertAsync(new Note { Key = "typed", Text = "from typed", Tags = ["a"], Vector = new float[] { 1, 0 } });
        var dynamic = test.Store.GetDynamicCollection("notes", NoteDefinition);
        await dynamic.UpsertAsync(new Dictionary<string, object?> { ["Key"] = "dynamic", ["Text"] = "from dynamic", ["Vector"] = new ReadOnlyMemory<float>([0, 1]) });

        var store = test.Reopen();
        var typedRead = await store.GetCollection<string, Note>("notes").GetAsync("dynamic", new() { IncludeVectors = true });
        var dynamicRead = await store.GetDynamicCollection("notes", NoteDefinition).GetAsync("typed", new() { IncludeVectors = true });

        Assert.Equal("from dynamic", typedRead!.Text);
        Assert.Null(typedRead.Tags);
        Assert.Equal([0f, 1f], typedRead.Vector.ToArray());
        Assert.Equal("from typed", dynamicRead!["Text"]);
        Assert.Equal(["a"], Assert.IsType<List<string>>(dynamicRead["Tags"]));
        Assert.Equal([1f, 0f], Assert.IsType<ReadOnlyMemory<float>>(dynamicRead["Vector"]).ToArray());
        Assert.Equal("typed", (await store.GetDynamicCollection("notes", NoteDefinition).SearchAsync(new float[] { 1, 0 }, top: 1).SingleAsync()).Record["Key"]);
    }

    [Fact]
    public async Task Dynamic_records_without_vectors_read_back_null_vectors()
    {
        using var test = new StoreUnderTest(persisted: false);
        var dynamic = test.Store.GetDynamicCollection("notes", NoteDefinition);
        await dynamic.EnsureCollectionExistsAsync();
        await dynamic.UpsertAsync(new Dictionary<string, object?> { ["Key"] = "bare" });

        var read = await dynamic.GetAsync("bare", new() { IncludeVectors = true });

        Assert.Null(read!["Vector"]);
        Assert.Null(read["Text"]);
        Assert.Empty(await dynamic.SearchAsync(new float[] { 1, 0 }, top: 5).ToListAsync());
    }

    [Fact]
    public async Task A_newer_record_type_with_an_extra_data_property_extends_the_collection()
    {
        using var test = new StoreUnderTest(persisted: true);
        var v1 = test.Store.GetCollection<string, Note>("notes");
        await v1.EnsureCollectionExistsAsync();
        await v1.UpsertAsync(new Note { Key = "old", Text = "v1", Vector = new float[] { 1, 0 } });

        var v2 = test.Store.GetCollection<string, NoteV2>("notes");
        await v2.UpsertAsync(new NoteV2 { Key = "new", Text = "v2", Priority = 5, Vector = new float[] { 0, 1 } });

        var reopened = test.Reopen().GetCollection<string, NoteV2>("notes");
        Assert.Equal(0, (await reopened.GetAsync("old"))!.Priority);
        Assert.Equal(5, (await reopened.GetAsync("new"))!.Priority);
        Assert.Equal(["new"], await reopened.GetAsync(n => n.Priority > 1, top: 10).Select(n => n.Key).ToListAsync());
    }

    [Fact]
    public async Task Incompatible_record_types_are_refused()
    {
        using var test = new StoreUnderTest(persisted: true);
        await test.Store.GetCollection<string, Note>("notes").EnsureCollectionExistsAsync();

        var wrongKey = await Assert.ThrowsAsync<InvalidOperationException>(() => test.Store.GetCollection<int, IntKeyNote>("notes").EnsureCollectionExistsAsync());
        var wrongDimensions = await Assert.ThrowsAsync<InvalidOperationException>(() => test.Store.GetCollection<string, WideNote>("notes").GetAsync("x"));
        var wrongDataType = await Assert.ThrowsAsync<InvalidOperationException>(() => test.Store.GetCollection<string, NumberTextNote>("notes").UpsertAsync(new NumberTextNote { Key = "x" }));

        Assert.Contains("stores String keys", wrongKey.Message, StringComparison.Ordinal);
        Assert.Contains("declares 3 dimensions", wrongDimensions.Message, StringComparison.Ordinal);
        Assert.Contains("stores 'Text' as 'string'", wrongDataType.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetCollection_with_Dictionary_records_points_to_GetDynamicCollection()
    {
        using var store = new Vlm2VecVectorStore(databasePath: null);
        Assert.Throws<NotSupportedException>(() => store.GetCollection<object, Dictionary<string, object?>>("x", NoteDefinition));
    }

    [Fact]
    public async Task GetService_returns_metadata()
    {
        using var test = new StoreUnderTest(persisted: true);
        var collection = test.Store.GetCollection<string, Note>("notes");

        var storeMetadata = (VectorStoreMetadata)test.Store.GetService(typeof(VectorStoreMetadata))!;
        var collectionMetadata = (VectorStoreCollectionMetadata)collection.GetService(typeof(VectorStoreCollectionMetadata))!;

        Assert.Equal("vlm2vec", storeMetadata.VectorStoreSystemName);
        Assert.Equal("store.db", storeMetadata.VectorStoreName);
        Assert.Equal("notes", collectionMetadata.CollectionName);
        Assert.Same(collection, collection.GetService(typeof(IVectorSearchable<Note>)));
        Assert.Null(collection.GetService(typeof(VectorStoreCollectionMetadata), serviceKey: "key"));
    }

    private static VectorStoreCollectionDefinition NoteDefinition => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty("Key", typeof(string)),
            new VectorStoreDataProperty("Text", typeof(string)),
            new VectorStoreDataProperty("Tags", typeof(List<string>)),
            new VectorStoreVectorProperty("Vector", typeof(ReadOnlyMemory<float>), 2),
        ],
    };

    public sealed class Note
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData]
        public string? Text { get; set; }

        [VectorStoreData]
        public List<string>? Tags { get; set; }

        [VectorStoreVector(2)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }

    public sealed class NoteV2
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData]
        public string? Text { get; set; }

        [VectorStoreData]
        public int Priority { get; set; }

        [VectorStoreVector(2)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }

    public sealed class IntKeyNote
    {
        [VectorStoreKey]
        public int Key { get; set; }

        [VectorStoreVector(2)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }

    public sealed class WideNote
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreVector(3)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }

    public sealed class NumberTextNote
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData]
        public int Text { get; set; }
    }
}
