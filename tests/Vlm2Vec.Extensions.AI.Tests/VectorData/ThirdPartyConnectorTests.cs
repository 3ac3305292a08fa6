using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Microsoft.SemanticKernel.Data;
using Vlm2Vec.Extensions.AI.Tests.Support;
using TextContent = Microsoft.Extensions.AI.TextContent;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// The Vlm2Vec generator with a connector that uses VectorData's own embedding dispatch (as Qdrant, Postgres and every
/// other third-party connector does): the recommended <c>VectorStoreVectorProperty&lt;AIContent&gt;</c> schema, the
/// dual-interface pitfall of <c>DataContent</c> properties, and the views that avoid it.
/// </summary>
public sealed class ThirdPartyConnectorTests
{
    public sealed class MixedRecord
    {
        public string Id { get; set; } = string.Empty;

        [TextSearchResultValue]
        public string? Caption { get; set; }

        public AIContent? Content { get; set; }
    }

    public sealed class ImageRecord
    {
        [VectorStoreKey]
        public string Id { get; set; } = string.Empty;

        [VectorStoreVector(HashingEncoder.Dimension)]
        public DataContent? Image { get; set; }
    }

    public sealed class NoteRecord
    {
        [VectorStoreKey]
        public string Id { get; set; } = string.Empty;

        [VectorStoreVector(HashingEncoder.Dimension)]
        public string? Text { get; set; }
    }

    private static VectorStoreCollectionDefinition MixedDefinition(IEmbeddingGenerator generator) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(MixedRecord.Id), typeof(string)),
            new VectorStoreDataProperty(nameof(MixedRecord.Caption), typeof(string)),
            new VectorStoreVectorProperty<AIContent>(nameof(MixedRecord.Content), HashingEncoder.Dimension) { EmbeddingGenerator = generator },
        ],
    };

    private static IEnumerable<MixedRecord> MixedRecords() =>
    [
        new() { Id = "dog-photo", Caption = "dalmatian photo", Content = TestModel.ImageData("dalmatian").WithRole(EmbeddingRole.Target) },
        new() { Id = "pizza-photo", Caption = "pizza photo", Content = TestModel.ImageData("pizza").WithRole(EmbeddingRole.Target) },
        new() { Id = "walk-note", Caption = "walk the spotted dalmatian at seven", Content = new TextContent("walk the spotted dalmatian at seven").WithRole(EmbeddingRole.Target) },
        new() { Id = "tax-note", Caption = "file the quarterly tax report", Content = new TextContent("file the quarterly tax report").WithRole(EmbeddingRole.Target) },
    ];

    [Fact]
    public async Task AIContent_property_takes_text_and_images_in_one_batch_and_searches_by_string_text_and_image()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var collection = new ReferenceVectorStore().GetCollection<string, MixedRecord>("mixed", MixedDefinition(generator));
        await collection.UpsertAsync(MixedRecords());

        Assert.Single(encoder.Batches, b => b.ImageCount == 2);
        var byString = await collection.SearchAsync("spotted dalmatian walk", 1).SingleAsync();
        var byText = await collection.SearchAsync<AIContent>(new TextContent("quarterly tax"), 1).SingleAsync();
        var byImage = await collection.SearchAsync(TestModel.ImageData("pizza"), 1).SingleAsync();
        var bySimilarImage = await collection.SearchAsync<AIContent>(TestModel.ImageData("dalmatian"), 1).SingleAsync();

        Assert.Equal("walk-note", byString.Record.Id);
        Assert.Equal("tax-note", byText.Record.Id);
        Assert.Equal("pizza-photo", byImage.Record.Id);
        Assert.Equal("dog-photo", bySimilarImage.Record.Id);
    }

    [Fact]
    public async Task DataContent_property_with_the_dual_generator_hits_VectorData_dispatch_bug_and_the_image_view_fixes_it()
    {
        using var generator = TestModel.NewGenerator(out _);
        var broken = new ReferenceVectorStore(generator).GetCollection<string, ImageRecord>("images");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            broken.UpsertAsync([new ImageRecord { Id = "a", Image = TestModel.ImageData("pizza") }]));
        Assert.Contains("accepting a string", error.Message, StringComparison.Ordinal);

        var fixedCollection = new ReferenceVectorStore(generator.AsImageEmbeddingGenerator()).GetCollection<string, ImageRecord>("images");
        await fixedCollection.UpsertAsync(
            [new ImageRecord { Id = "pizza", Image = TestModel.ImageData("pizza") }, new ImageRecord { Id = "dog", Image = TestModel.ImageData("dalmatian") }]);
        var hit = await fixedCollection.SearchAsync(TestModel.ImageData("dalmatian"), 1).SingleAsync();
        Assert.Equal("dog", hit.Record.Id);
        Assert.Equal(1.0, hit.Score!.Value, 5);
    }

    [Fact]
    public async Task String_property_with_the_text_view()
    {
        using var generator = TestModel.NewGenerator(out _);
        var text = generator.AsTextEmbeddingGenerator();
        Assert.False(text is IEmbeddingGenerator<AIContent, Embedding<float>>);
        var collection = new ReferenceVectorStore(text).GetCollection<string, NoteRecord>("notes");
        await collection.UpsertAsync([new NoteRecord { Id = "a", Text = "buy oat milk" }, new NoteRecord { Id = "b", Text = "renew the passport" }]);

        Assert.Equal("b", (await collection.SearchAsync("passport renewal", 1).SingleAsync()).Record.Id);
        Assert.Same(generator, text.GetService<Vlm2VecEmbeddingGenerator>());
    }

    [Fact]
    public async Task The_container_default_generator_works_through_middleware_for_mixed_collections()
    {
        var encoder = TestModel.NewEncoder();
        var services = new ServiceCollection()
            .AddSingleton<IDistributedCache>(new MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new MemoryDistributedCacheOptions())));
        services.AddVlm2VecEmbeddingGenerator(encoder).UseVlm2VecDistributedCache();
        await using var provider = services.BuildServiceProvider();
        var defaultGenerator = provider.GetRequiredService<IEmbeddingGenerator>();
        var collection = new ReferenceVectorStore(defaultGenerator).GetCollection<string, MixedRecord>("mixed", MixedDefinition(defaultGenerator));
        await collection.UpsertAsync(MixedRecords());
        var rows = encoder.RowsEncoded;

        var first = await collection.SearchAsync("spotted dalmatian walk", 2).ToListAsync();
        var again = await collection.SearchAsync("spotted dalmatian walk", 2).ToListAsync();

        Assert.Equal("walk-note", first[0].Record.Id);
        Assert.Equal(first.Select(h => h.Record.Id), again.Select(h => h.Record.Id));
        Assert.Equal(rows + 1, encoder.RowsEncoded);
    }

    [Fact]
    public async Task Semantic_Kernel_VectorStoreTextSearch_over_a_mixed_collection()
    {
        using var generator = TestModel.NewGenerator(out _);
        var collection = new ReferenceVectorStore().GetCollection<string, MixedRecord>("mixed", MixedDefinition(generator));
        await collection.UpsertAsync(MixedRecords());
        var search = new VectorStoreTextSearch<MixedRecord>(collection);

        var results = await (await ((ITextSearch<MixedRecord>)search).SearchAsync("quarterly tax report", new TextSearchOptions<MixedRecord> { Top = 2 })).Results.ToListAsync();

        Assert.Equal("file the quarterly tax report", results[0]);
        Assert.Equal(2, results.Count);
    }
}
