using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// The §3.3 matrix with a generator implementing both <c>&lt;string,…&gt;</c> and <c>&lt;AIContent,…&gt;</c> (the shape of
/// Vlm2VecEmbeddingGenerator). The store dispatches on each value's runtime type, so V1 (a <see cref="DataContent"/>
/// property), V2 (a content-only generator searched with text) and V3 (an <see cref="AIContent"/> property with a mixed
/// text + image batch) all work. Fake images carry a caption the fake generators embed, so text finds its image.
/// </summary>
public sealed class DualGeneratorDispatchTests
{
    private const int Dimensions = 32;

    [Fact]
    public async Task Mevd_own_dispatcher_fails_V1_which_is_why_the_store_dispatches_itself()
    {
        // Documents the upstream behaviour the store works around: if this starts passing upstream, the workaround can go.
        var model = new Vlm2VecModelBuilder().Build(typeof(ImageRecord), typeof(Guid), definition: null, new DualInterfaceGenerator(Dimensions));
        var property = model.VectorProperties.Single();

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => property.GenerateEmbeddingsAsync([FakeVectors.Image("a cat")], CancellationToken.None));

        Assert.Contains("accepting a string, but DataContent was provided", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task V1_DataContent_property_with_dual_generator_upserts_through_the_content_interface()
    {
        var generator = new DualInterfaceGenerator(Dimensions);
        using var store = new Vlm2VecVectorStore(databasePath: null, generator);
        var collection = store.GetCollection<Guid, ImageRecord>("images");
        await collection.EnsureCollectionExistsAsync();

        await collection.UpsertAsync(
        [
            new ImageRecord { Caption = "cat", Image = FakeVectors.Image("a sleeping cat") },
            new ImageRecord { Caption = "car", Image = FakeVectors.Image("a red car") },
            new ImageRecord { Caption = "tree", Image = FakeVectors.Image("an old oak tree") },
        ]);

        Assert.Equal(["AIContent:DataContent,DataContent,DataContent"], generator.Calls);

        // Text query → the string interface; image query → the content interface.
        var byText = await collection.SearchAsync("red car", top: 1).SingleAsync();
        var byImage = await collection.SearchAsync(FakeVectors.Image("sleeping cat"), top: 1).SingleAsync();

        Assert.Equal("car", byText.Record.Caption);
        Assert.Equal("cat", byImage.Record.Caption);
        Assert.Equal(["AIContent:DataContent,DataContent,DataContent", "string:1", "AIContent:DataContent"], generator.Calls);
    }

    [Fact]
    public async Task V2_content_only_generator_on_DataContent_property_also_answers_text_queries()
    {
        var generator = new HashingContentGenerator(Dimensions);
        using var store = new Vlm2VecVectorStore(databasePath: null, generator);
        var collection = store.GetCollection<Guid, ImageRecord>("images");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(
        [
            new ImageRecord { Caption = "cat", Image = FakeVectors.Image("a sleeping cat") },
            new ImageRecord { Caption = "car", Image = FakeVectors.Image("a red car") },
        ]);

        // MEVD would throw "incompatible embedding generator" for a string here; the store wraps it in a TextContent.
        var result = await collection.SearchAsync("sleeping cat", top: 1).SingleAsync();

        Assert.Equal("cat", result.Record.Caption);
        Assert.Equal("AIContent:TextContent", generator.Calls.Last());
    }

    [Fact]
    public async Task V3_AIContent_property_embeds_a_mixed_text_and_image_batch_in_one_call()
    {
        var generator = new DualInterfaceGenerator(Dimensions);
        using var store = new Vlm2VecVectorStore(databasePath: null, generator);
        var collection = store.GetCollection<string, MemoryRecord>("memories", MemoryDefinition());
        await collection.EnsureCollectionExistsAsync();

        await collection.UpsertAsync(
        [
            new MemoryRecord { Key = "note", Description = "a note", Content = new TextContent("buy milk and bread") },
            new MemoryRecord { Key = "photo", Description = "a photo", Content = FakeVectors.Image("a dog in the snow") },
            new MemoryRecord { Key = "screenshot", Description = "a screenshot", Content = FakeVectors.Image("error dialog disk full") },
        ]);

        Assert.Equal(["AIContent:TextContent,DataContent,DataContent"], generator.Calls);

        Assert.Equal("photo", (await collection.SearchAsync("dog snow", top: 1).SingleAsync()).Record.Key);
        Assert.Equal("note", (await collection.SearchAsync(new TextContent("milk"), top: 1).SingleAsync()).Record.Key);
        Assert.Equal("screenshot", (await collection.SearchAsync(FakeVectors.Image("disk full"), top: 1).SingleAsync()).Record.Key);
        Assert.Equal("photo", (await collection.SearchAsync<AIContent>(FakeVectors.Image("snow dog"), top: 1).SingleAsync()).Record.Key);
        Assert.Equal(["AIContent:TextContent,DataContent,DataContent", "string:1", "AIContent:TextContent", "AIContent:DataContent", "AIContent:DataContent"], generator.Calls);
    }

    [Fact]
    public async Task V4_string_property_with_dual_generator_uses_the_string_interface()
    {
        var generator = new DualInterfaceGenerator(Dimensions);
        using var store = new Vlm2VecVectorStore(databasePath: null, generator);
        var collection = store.GetCollection<int, TextRecord>("texts");
        await collection.EnsureCollectionExistsAsync();

        await collection.UpsertAsync([new TextRecord { Key = 1, Text = "alpha beta" }, new TextRecord { Key = 2, Text = "gamma delta" }]);
        var result = await collection.SearchAsync("delta", top: 1).SingleAsync();

        Assert.Equal(2, result.Record.Key);
        Assert.Equal(["string:2", "string:1"], generator.Calls);
    }

    [Fact]
    public async Task A_generator_that_accepts_none_of_the_types_fails_with_the_input_type_named()
    {
        using var store = new Vlm2VecVectorStore(databasePath: null, new HashingTextGenerator(Dimensions));
        var collection = store.GetCollection<string, MemoryRecord>("memories", MemoryDefinition(new HashingContentGenerator(Dimensions)));
        await collection.EnsureCollectionExistsAsync();

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => collection.SearchAsync(42, top: 1).ToListAsync().AsTask());

        Assert.Equal($"An input of type 'int' was provided, but an incompatible embedding generator of type '{nameof(HashingContentGenerator)}' was configured.", exception.Message);
    }

    private static VectorStoreCollectionDefinition MemoryDefinition(IEmbeddingGenerator? generator = null) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(MemoryRecord.Key), typeof(string)),
            new VectorStoreDataProperty(nameof(MemoryRecord.Description), typeof(string)),
            new VectorStoreVectorProperty<AIContent>(nameof(MemoryRecord.Content), Dimensions) { EmbeddingGenerator = generator },
        ],
    };

    public sealed class ImageRecord
    {
        [VectorStoreKey]
        public Guid Key { get; set; }

        [VectorStoreData]
        public string? Caption { get; set; }

        [VectorStoreVector(Dimensions)]
        public DataContent? Image { get; set; }
    }

    public sealed class MemoryRecord
    {
        public string Key { get; set; } = string.Empty;

        public string? Description { get; set; }

        public AIContent? Content { get; set; }
    }

    public sealed class TextRecord
    {
        [VectorStoreKey]
        public int Key { get; set; }

        [VectorStoreVector(Dimensions)]
        public string? Text { get; set; }
    }
}
