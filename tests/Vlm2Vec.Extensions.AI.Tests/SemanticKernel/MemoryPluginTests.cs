using Microsoft.Extensions.AI;
using Vlm2Vec.Extensions.AI.SemanticKernel;
using Vlm2Vec.Extensions.AI.Tests.Support;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Extensions.AI.Tests.SemanticKernel;

/// <summary>The memory plugin called directly: remember, search by text and by image, filters, forget, image-path safety.</summary>
public sealed class MemoryPluginTests : IDisposable
{
    private readonly TempFolder _photos = new("vlm2vec-memory");
    private readonly Vlm2VecEmbeddingGenerator _generator;
    private readonly HashingEncoder _encoder;

    public MemoryPluginTests()
    {
        _generator = TestModel.NewGenerator(out _encoder);
        File.Copy(TestModel.ImagePath("dalmatian"), _photos.Combine("dog.jpg"));
        File.Copy(TestModel.ImagePath("pizza"), _photos.Combine("pizza.jpg"));
        Directory.CreateDirectory(_photos.Combine("sub"));
        File.Copy(TestModel.ImagePath("pizza", 1), _photos.Combine("sub", "pizza2.jpg"));
    }

    public void Dispose()
    {
        _generator.Dispose();
        _photos.Dispose();
    }

    private MultimodalMemoryPlugin NewPlugin(MultimodalMemoryOptions? options = null) =>
        new(
            new ReferenceVectorStore().GetCollection<string, MultimodalMemoryRecord>("memory", MultimodalMemoryRecord.CreateDefinition(_generator, _generator.Dimensions)),
            options ?? new MultimodalMemoryOptions { AllowedImageFolders = [_photos.Path] });

    [Fact]
    public async Task Remembers_notes_and_images_and_finds_them_by_text_with_citations()
    {
        var plugin = NewPlugin();
        var note = await plugin.RememberTextAsync("walk the spotted dalmatian at seven", "notes/todo.md", new() { ["author"] = "ana" });
        var tax = await plugin.RememberTextAsync("file the quarterly tax report", "notes/tax.md");
        var photo = await plugin.RememberImageAsync("dog.jpg", "my spotted dalmatian in the park", metadata: new() { ["camera"] = "phone" });

        var hits = await plugin.SearchAsync("spotted dalmatian", top: 3);

        Assert.Equal(3, hits.Count);
        Assert.Equal(note.Id, hits[0].Id);
        Assert.Equal($"[memory:{note.Id}] notes/todo.md", hits[0].Citation);
        Assert.Equal("ana", hits[0].Metadata!["author"]);
        Assert.True(hits[0].Score > hits[2].Score);
        Assert.Equal(tax.Id, hits[2].Id);
        Assert.Equal(_photos.Combine("dog.jpg"), photo.Source);
        Assert.Equal(MultimodalMemoryRecord.ImageKind, photo.Kind);
        Assert.Equal("phone", hits.Single(h => h.Id == photo.Id).Metadata!["camera"]);
    }

    [Fact]
    public async Task Finds_images_by_image_and_filters_by_kind()
    {
        var plugin = NewPlugin();
        var dog = await plugin.RememberImageAsync(_photos.Combine("dog.jpg"));
        var pizza = await plugin.RememberImageAsync("pizza.jpg", source: "album/2024/pizza");
        var note = await plugin.RememberTextAsync("pizza dough recipe: flour, water, salt, yeast");

        var byImage = await plugin.SearchByImageAsync(_photos.Combine("pizza.jpg"), top: 2);
        var byDataUri = await plugin.SearchByImageAsync("data:image/jpeg;base64," + Convert.ToBase64String(File.ReadAllBytes(_photos.Combine("dog.jpg"))), top: 1);
        var onlyNotes = await plugin.SearchAsync("pizza", kind: "text");
        var onlyImages = await plugin.SearchAsync("pizza dough recipe", kind: "image");

        Assert.Equal(pizza.Id, byImage[0].Id);
        Assert.Equal("[memory:" + pizza.Id + "] album/2024/pizza", byImage[0].Citation);
        Assert.Equal(dog.Id, Assert.Single(byDataUri).Id);
        Assert.Equal(note.Id, Assert.Single(onlyNotes).Id);
        Assert.All(onlyImages, h => Assert.Equal(MultimodalMemoryRecord.ImageKind, h.Kind));
        Assert.Equal(2, onlyImages.Count);
    }

    [Fact]
    public async Task Forget_removes_a_memory()
    {
        var plugin = NewPlugin();
        var note = await plugin.RememberTextAsync("temporary note");

        Assert.True(await plugin.ForgetAsync(note.Id));
        Assert.False(await plugin.ForgetAsync(note.Id));
        Assert.Empty(await plugin.SearchAsync("temporary note"));
    }

    [Fact]
    public async Task Image_paths_outside_the_allowed_folders_are_refused()
    {
        var plugin = NewPlugin();
        var outside = await Assert.ThrowsAsync<ArgumentException>(() => plugin.RememberImageAsync(TestModel.ImagePath("dalmatian")));
        var escape = await Assert.ThrowsAsync<ArgumentException>(() => plugin.RememberImageAsync("../" + Path.GetFileName(_photos.Path) + "-other/x.jpg"));
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => plugin.RememberImageAsync("nope.jpg"));
        var notImage = await Assert.ThrowsAsync<ArgumentException>(() => plugin.RememberImageAsync("notes.txt"));
        var nested = await plugin.RememberImageAsync("sub/pizza2.jpg");
        var noFolders = await Assert.ThrowsAsync<ArgumentException>(() => NewPlugin(new MultimodalMemoryOptions()).RememberImageAsync(_photos.Combine("dog.jpg")));

        Assert.Contains("outside the folders", outside.Message, StringComparison.Ordinal);
        Assert.Contains("outside the folders", escape.Message, StringComparison.Ordinal);
        Assert.Contains("no image file", missing.Message, StringComparison.Ordinal);
        Assert.Contains(".txt", notImage.Message, StringComparison.Ordinal);
        Assert.Equal(_photos.Combine("sub", "pizza2.jpg"), nested.Source);
        Assert.Contains("data URI", noFolders.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stored_items_are_embedded_as_targets_and_queries_as_queries()
    {
        var plugin = NewPlugin();
        await plugin.RememberTextAsync("a note");
        await plugin.SearchAsync("a note");

        var batches = _encoder.Batches.ToArray();
        var stored = TestModel.Preprocessor.Tokenizer.Decode(batches[0].InputIds.Select(i => (int)i).Where((_, k) => batches[0].AttentionMask[k] == 1).ToArray());
        var query = TestModel.Preprocessor.Tokenizer.Decode(batches[1].InputIds.Select(i => (int)i).Where((_, k) => batches[1].AttentionMask[k] == 1).ToArray());
        Assert.Equal("a note", stored);
        Assert.Equal("Find me an everyday image that matches the given caption: a note\n", query);
    }

    [Fact]
    public async Task Bad_arguments_get_messages_an_agent_can_act_on()
    {
        var plugin = NewPlugin();

        Assert.Contains("empty", (await Assert.ThrowsAsync<ArgumentException>(() => plugin.RememberTextAsync(" "))).Message, StringComparison.Ordinal);
        Assert.Contains("'text' or 'image'", (await Assert.ThrowsAsync<ArgumentException>(() => plugin.SearchAsync("x", kind: "video"))).Message, StringComparison.Ordinal);
        Assert.Contains("not an image", (await Assert.ThrowsAsync<ArgumentException>(() => plugin.SearchByImageAsync("data:text/plain;base64,aGk="))).Message, StringComparison.Ordinal);
    }
}
