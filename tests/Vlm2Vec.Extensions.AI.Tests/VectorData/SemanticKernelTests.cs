using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Data;
using Vlm2Vec.Extensions.AI.VectorData;
using TextContent = Microsoft.Extensions.AI.TextContent;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// Semantic Kernel 1.82's <see cref="VectorStoreTextSearch{TRecord}"/> and <see cref="TextSearchStore{TKey}"/> running
/// end to end on the store: SK passes the raw query string to the collection, whose generator embeds it.
/// </summary>
public sealed class SemanticKernelTests
{
    private const int Dimensions = 256;

    private static readonly (string Title, string Body, string Category)[] Articles =
    [
        ("Cats", "cats purr and sleep most of the day", "animals"),
        ("Rockets", "rockets burn fuel to reach orbit", "space"),
        ("Bread", "bread needs flour water yeast and an oven", "cooking"),
        ("Dogs", "dogs bark and fetch sticks in the park", "animals"),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task VectorStoreTextSearch_finds_the_matching_record(bool persisted)
    {
        using var test = new StoreUnderTest(persisted, new HashingTextGenerator(Dimensions));
        var collection = await SeedArticlesAsync(test);
        ITextSearch<Article> textSearch = new VectorStoreTextSearch<Article>(collection);

        var values = await (await textSearch.SearchAsync("dogs that bark", new TextSearchOptions<Article> { Top = 1 })).Results.ToListAsync();
        var results = await (await textSearch.GetTextSearchResultsAsync("rockets orbit", new TextSearchOptions<Article> { Top = 2 })).Results.ToListAsync();
        var records = await (await textSearch.GetSearchResultsAsync("flour and yeast", new TextSearchOptions<Article> { Top = 1 })).Results.ToListAsync();

        Assert.Equal([Articles[3].Body], values);
        Assert.Equal("Rockets", results[0].Name);
        Assert.Equal("https://example.test/rockets", results[0].Link);
        Assert.Equal(Articles[1].Body, results[0].Value);
        Assert.Equal("Bread", Assert.Single(records).Title);
    }

    [Fact]
    public async Task VectorStoreTextSearch_with_a_LINQ_filter()
    {
        using var test = new StoreUnderTest(persisted: false, new HashingTextGenerator(Dimensions));
        var collection = await SeedArticlesAsync(test);
        ITextSearch<Article> textSearch = new VectorStoreTextSearch<Article>(collection);

        var values = await (await textSearch.SearchAsync(
            "rockets burn fuel", new TextSearchOptions<Article> { Top = 3, Filter = a => a.Category == "animals" })).Results.ToListAsync();

        Assert.Equal(2, values.Count);
        Assert.All(values, v => Assert.Contains(v, new[] { Articles[0].Body, Articles[3].Body }));
    }

    [Fact]
    public async Task VectorStoreTextSearch_over_images_answers_text_queries()
    {
        // A multimodal collection (V3): images and notes in one AIContent vector property; SK's text search finds the image.
        using var store = new Vlm2VecVectorStore(databasePath: null, new DualInterfaceGenerator(Dimensions));
        var collection = store.GetCollection<string, Memory>("memories", new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(Memory.Id), typeof(string)),
                new VectorStoreDataProperty(nameof(Memory.Description), typeof(string)),
                new VectorStoreVectorProperty<AIContent>(nameof(Memory.Content), Dimensions),
            ],
        });
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(
        [
            new Memory { Id = "photo-1", Description = "photo: beach at sunset", Content = FakeVectors.Image("a beach at sunset with waves") },
            new Memory { Id = "photo-2", Description = "photo: snowy mountain", Content = FakeVectors.Image("a snowy mountain peak") },
            new Memory { Id = "note-1", Description = "note: groceries", Content = new TextContent("eggs milk coffee") },
        ]);

        ITextSearch<Memory> textSearch = new VectorStoreTextSearch<Memory>(collection);
        var values = await (await textSearch.SearchAsync("sunset beach", new TextSearchOptions<Memory> { Top = 1 })).Results.ToListAsync();

        Assert.Equal(["photo: beach at sunset"], values);
    }

    [Fact]
    public async Task AddVectorStoreTextSearch_resolves_the_collection_registered_as_IVectorSearchable()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IEmbeddingGenerator>(new HashingTextGenerator(Dimensions));
        services.AddVlm2VecVectorStore(databasePath: null);
        services.AddVlm2VecVectorStoreCollection<string, Article>("articles");
        services.AddVectorStoreTextSearch<Article>();
        await using var provider = services.BuildServiceProvider();
        var collection = provider.GetRequiredService<VectorStoreCollection<string, Article>>();
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Articles.Select(ToArticle));

        ITextSearch<Article> textSearch = provider.GetRequiredService<VectorStoreTextSearch<Article>>();
        var values = await (await textSearch.SearchAsync("cats purr", new TextSearchOptions<Article> { Top = 1 })).Results.ToListAsync();

        Assert.Equal([Articles[0].Body], values);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TextSearchStore_upserts_and_searches_text_chunks(bool persisted)
    {
        var generator = new HashingTextGenerator(Dimensions);
        using var test = new StoreUnderTest(persisted, generator);
        using (var textStore = new TextSearchStore<string>(test.Store, "rag", Dimensions))
        {
            await textStore.UpsertTextAsync(Articles.Select(a => a.Body));
        }

        Assert.Contains(Articles.Length, generator.BatchSizes);
        using var reopened = new TextSearchStore<string>(test.Reopen(), "rag", Dimensions);
#pragma warning disable CS0618 // TextSearchStore implements only the (obsolete) non-generic ITextSearch, whose options type is obsolete.
        var values = await (await reopened.SearchAsync("yeast and flour", new TextSearchOptions { Top = 1 })).Results.ToListAsync();
#pragma warning restore CS0618

        Assert.Equal([Articles[2].Body], values);
    }

    [Fact]
    public async Task TextSearchStore_with_Guid_keys_documents_and_namespaces()
    {
        using var test = new StoreUnderTest(persisted: true, new HashingTextGenerator(Dimensions));
        using var textStore = new TextSearchStore<Guid>(test.Store, "docs", Dimensions, new TextSearchStoreOptions { SearchNamespace = "space" });
        await textStore.UpsertDocumentsAsync(Articles.Select(a => new TextSearchDocument
        {
            Text = a.Body,
            SourceName = a.Title,
            SourceLink = "https://example.test/" + a.Title.ToLowerInvariant(),
            Namespaces = [a.Category],
        }));

        // The namespace filter (Namespaces.Contains("space")) leaves only the rocket article, whatever the query.
#pragma warning disable CS0618 // See above.
        var results = await (await textStore.GetTextSearchResultsAsync("dogs bark", new TextSearchOptions { Top = 3 })).Results.ToListAsync();
#pragma warning restore CS0618

        var result = Assert.Single(results);
        Assert.Equal("Rockets", result.Name);
        Assert.Equal("https://example.test/rockets", result.Link);
    }

    private static Article ToArticle((string Title, string Body, string Category) a) =>
        new() { Key = a.Title.ToLowerInvariant(), Title = a.Title, Body = a.Body, Category = a.Category, Link = "https://example.test/" + a.Title.ToLowerInvariant(), Embedding = a.Body };

    private static async Task<VectorStoreCollection<string, Article>> SeedArticlesAsync(StoreUnderTest test)
    {
        var collection = test.Store.GetCollection<string, Article>("articles");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Articles.Select(ToArticle));
        return test.Reopen().GetCollection<string, Article>("articles");
    }

    public sealed class Article
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData]
        [TextSearchResultName]
        public string Title { get; set; } = string.Empty;

        [VectorStoreData]
        [TextSearchResultValue]
        public string Body { get; set; } = string.Empty;

        [VectorStoreData]
        [TextSearchResultLink]
        public string? Link { get; set; }

        [VectorStoreData(IsIndexed = true)]
        public string Category { get; set; } = string.Empty;

        [VectorStoreVector(Dimensions)]
        public string? Embedding { get; set; }
    }

    public sealed class Memory
    {
        public string Id { get; set; } = string.Empty;

        [TextSearchResultValue]
        public string Description { get; set; } = string.Empty;

        public AIContent? Content { get; set; }
    }
}
