using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.SemanticKernel.Data;
using Vlm2Vec.Extensions.AI.SemanticKernel;
using Vlm2Vec.Extensions.AI.Tests.Support;
using Vlm2Vec.Extensions.AI.VectorData;
using Vlm2Vec.TestSupport;
using TextContent = Microsoft.Extensions.AI.TextContent;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// <see cref="Vlm2VecEmbeddingGenerator"/> with the embedded <see cref="Vlm2VecVectorStore"/>: a mixed text + image
/// <see cref="AIContent"/> collection (V3), a <c>DataContent</c> attribute property with the dual generator (V1, which
/// VectorData's own dispatch cannot do), Semantic Kernel's text search, and the memory plugin on a SQLite file.
/// </summary>
public sealed class GeneratorWithVlm2VecStoreTests : IDisposable
{
    private readonly TempFolder _folder = new("vlm2vec-store");

    public void Dispose() => _folder.Dispose();

    public sealed class Memory
    {
        public Guid Id { get; set; }

        [TextSearchResultValue]
        public string? Caption { get; set; }

        public AIContent? Content { get; set; }
    }

    public sealed class Photo
    {
        [VectorStoreKey]
        public string Id { get; set; } = string.Empty;

        [VectorStoreVector(HashingEncoder.Dimension)]
        public DataContent? Image { get; set; }
    }

    private static VectorStoreCollectionDefinition MemoryDefinition() => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(Memory.Id), typeof(Guid)),
            new VectorStoreDataProperty(nameof(Memory.Caption), typeof(string)),
            new VectorStoreVectorProperty<AIContent>(nameof(Memory.Content), HashingEncoder.Dimension),
        ],
    };

    private static Memory[] Memories() =>
    [
        new() { Caption = "dalmatian photo", Content = TestModel.ImageData("dalmatian").WithRole(EmbeddingRole.Target) },
        new() { Caption = "pizza photo", Content = Vlm2VecContent.Create(null, "pizza night with friends", TestModel.ImageUri("pizza"), EmbeddingRole.Target) },
        new() { Caption = "walk the spotted dalmatian at seven", Content = new TextContent("walk the spotted dalmatian at seven").WithRole(EmbeddingRole.Target) },
        new() { Caption = "file the quarterly tax report", Content = new TextContent("file the quarterly tax report").WithRole(EmbeddingRole.Target) },
    ];

    [Fact]
    public async Task Mixed_text_and_image_collection_upserts_in_one_batch_and_searches_every_way()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        using var store = new Vlm2VecVectorStore(null, generator);
        var memories = store.GetCollection<Guid, Memory>("memories", MemoryDefinition());
        await memories.EnsureCollectionExistsAsync();
        await memories.UpsertAsync(Memories());

        Assert.Single(encoder.Batches, b => b.ImageCount == 2);
        Assert.Equal("walk the spotted dalmatian at seven", (await memories.SearchAsync("spotted dalmatian walk", 1).SingleAsync()).Record.Caption);
        Assert.Equal("file the quarterly tax report", (await memories.SearchAsync<AIContent>(new TextContent("quarterly tax"), 1).SingleAsync()).Record.Caption);
        Assert.Equal("dalmatian photo", (await memories.SearchAsync(TestModel.ImageData("dalmatian"), 1).SingleAsync()).Record.Caption);
        Assert.Equal("pizza photo", (await memories.SearchAsync<AIContent>(Vlm2VecContent.Create(null, null, TestModel.ImageUri("pizza")), 1).SingleAsync()).Record.Caption);
    }

    [Fact]
    public async Task DataContent_attribute_property_works_with_the_dual_generator_in_this_store()
    {
        using var generator = TestModel.NewGenerator(out _);
        using var store = new Vlm2VecVectorStore(null, generator);
        var photos = store.GetCollection<string, Photo>("photos");
        await photos.EnsureCollectionExistsAsync();
        await photos.UpsertAsync([new Photo { Id = "dog", Image = TestModel.ImageData("dalmatian") }, new Photo { Id = "pizza", Image = TestModel.ImageData("pizza") }]);

        var hit = await photos.SearchAsync(TestModel.ImageData("pizza"), 1).SingleAsync();
        Assert.Equal("pizza", hit.Record.Id);
        Assert.Equal(1.0, hit.Score!.Value, 5);
    }

    [Fact]
    public async Task Semantic_Kernel_VectorStoreTextSearch_on_the_mixed_collection()
    {
        using var generator = TestModel.NewGenerator(out _);
        using var store = new Vlm2VecVectorStore(null, generator);
        var memories = store.GetCollection<Guid, Memory>("memories", MemoryDefinition());
        await memories.EnsureCollectionExistsAsync();
        await memories.UpsertAsync(Memories());
        ITextSearch<Memory> search = new VectorStoreTextSearch<Memory>(memories);

        var results = await (await search.SearchAsync("quarterly tax report", new TextSearchOptions<Memory> { Top = 3 })).Results.ToListAsync();

        Assert.Equal("file the quarterly tax report", results[0]);
        Assert.Equal(3, results.Count);
    }

    [Fact]
    public async Task Memory_plugin_on_a_SQLite_store_survives_reopening()
    {
        var database = _folder.Combine("memory.db");
        File.Copy(TestModel.ImagePath("dalmatian"), _folder.Combine("dog.jpg"));
        string noteId, photoId;
        using (var generator = TestModel.NewGenerator(out _))
        using (var store = new Vlm2VecVectorStore(database, generator))
        {
            var plugin = new MultimodalMemoryPlugin(
                store.GetCollection<string, MultimodalMemoryRecord>("memory", MultimodalMemoryRecord.CreateDefinition(generator, generator.Dimensions)),
                new MultimodalMemoryOptions { AllowedImageFolders = [_folder.Path] });
            noteId = (await plugin.RememberTextAsync("the spare key is under the blue pot", "notes/house.md", new() { ["room"] = "garden" })).Id;
            photoId = (await plugin.RememberImageAsync("dog.jpg", "our dalmatian")).Id;
        }

        using (var generator = TestModel.NewGenerator(out _))
        using (var store = new Vlm2VecVectorStore(database, generator))
        {
            var plugin = new MultimodalMemoryPlugin(
                store.GetCollection<string, MultimodalMemoryRecord>("memory", MultimodalMemoryRecord.CreateDefinition(generator, generator.Dimensions)),
                new MultimodalMemoryOptions { AllowedImageFolders = [_folder.Path] });
            var byText = await plugin.SearchAsync("where is the spare key", top: 1);
            var byImage = await plugin.SearchByImageAsync("dog.jpg", top: 1, kind: "image");

            Assert.Equal(noteId, Assert.Single(byText).Id);
            Assert.Equal("garden", byText[0].Metadata!["room"]);
            Assert.Equal($"[memory:{noteId}] notes/house.md", byText[0].Citation);
            Assert.Equal(photoId, Assert.Single(byImage).Id);
            Assert.Equal("our dalmatian", byImage[0].Text);
        }
    }
}
