using System.Text.Json;
using Vlm2Vec.Cli.Search;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

public sealed class SearchCommandTests : IDisposable
{
    private const string BagQuery = "Find me an everyday image that matches the given caption: a photo of a bag";

    private readonly TempFolder _work = new("vlm2vec-search-cli");

    public SearchCommandTests()
    {
        Source = _work.Combine("source");
        Directory.CreateDirectory(Source);
        foreach (var name in new[] { "bag-1.png", "bag-2.png", "dress-1.png", "sneaker-1.png", "trouser-1.png" })
        {
            File.Copy(DemoBundle.Image(name), Path.Combine(Source, name));
        }

        File.WriteAllText(Path.Combine(Source, "note.md"), "# A <note> & a list");
        Store = _work.Combine("store.db");
    }

    public string Source { get; }

    public string Store { get; }

    public void Dispose() => _work.Dispose();

    private async Task IndexAsync()
    {
        // The demo model's text -> image targets: "<|image_1|>\nRepresent the given image.\n" (instruction + placeholder).
        var index = await CliHarness.RunAsync(["index", "-m", DemoBundle.ModelFolder, "-s", Source, "--store", Store, "--instruction", "Represent the given image."]);
        Assert.True(index.ExitCode == ExitCodes.Success, index.ToString());
    }

    [Fact]
    public async Task A_text_query_prints_a_ranked_table_and_json_with_the_bags_first()
    {
        await IndexAsync();

        var table = await CliHarness.RunAsync(["search", "-m", DemoBundle.ModelFolder, "--store", Store, "--text", BagQuery, "--top", "3"]);
        var json = await CliHarness.RunAsync(["search", "-m", DemoBundle.ModelFolder, "--store", Store, "--text", BagQuery, "--top", "6", "--json"]);

        Assert.True(table.ExitCode == ExitCodes.Success, table.ToString());
        var rows = table.OutLines.Where(l => l.StartsWith("│", StringComparison.Ordinal)).Skip(1).ToList(); // after the header
        Assert.Equal(3, rows.Count);
        Assert.Contains("│    1 │", rows[0], StringComparison.Ordinal);
        Assert.Contains("bag-", rows[0], StringComparison.Ordinal);
        Assert.Contains("image", rows[0], StringComparison.Ordinal);

        Assert.True(json.ExitCode == ExitCodes.Success, json.ToString());
        using var document = JsonDocument.Parse(json.Out);
        var hits = document.RootElement.GetProperty("hits").EnumerateArray().ToList();
        Assert.Equal(6, hits.Count);
        Assert.Equal(Enumerable.Range(1, 6), hits.Select(h => h.GetProperty("rank").GetInt32()));
        var scores = hits.Select(h => h.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.Equal(["bag-1.png", "bag-2.png"], hits.Take(2).Select(h => h.GetProperty("key").GetString()!).Order(StringComparer.Ordinal));
        var note = hits.Single(h => h.GetProperty("key").GetString() == "note.md");
        Assert.Equal("text", note.GetProperty("kind").GetString());
        Assert.Equal("# A <note> & a list", note.GetProperty("preview").GetString());
    }

    [Fact]
    public async Task Html_writes_a_self_contained_gallery_with_the_query_inlined_images_and_text_cards()
    {
        await IndexAsync();
        var html = _work.Combine("hits", "gallery.html");

        var result = await CliHarness.RunAsync(["search", "-m", DemoBundle.ModelFolder, "--store", Store, "--image", DemoBundle.Image("bag-3.png"), "--top", "6", "--html", html]);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("gallery.html", result.Error, StringComparison.Ordinal);
        var page = File.ReadAllText(html);
        Assert.StartsWith("<!DOCTYPE html>", page, StringComparison.Ordinal);
        Assert.Contains("bag-3.png", page, StringComparison.Ordinal); // the query
        Assert.Equal(6, page.Split("<figure class=\"card", StringSplitOptions.None).Length - 1);
        Assert.Equal(6, page.Split("src=\"data:image/png;base64,", StringSplitOptions.None).Length - 1); // query + 5 image hits
        Assert.Contains("# A &lt;note&gt; &amp; a list", page, StringComparison.Ordinal); // the text hit as an escaped card
        Assert.DoesNotContain("src=\"http", page, StringComparison.Ordinal);
        Assert.DoesNotContain("src=\"/", page, StringComparison.Ordinal);
        Assert.Matches(@"<span class=""score"">0\.\d{3}</span>", page);
    }

    [Fact]
    public async Task A_store_built_with_another_model_is_refused()
    {
        await IndexAsync();
        using var fakeModel = new TempFolder("vlm2vec-fake-model");
        File.WriteAllText(Path.Combine(fakeModel.Path, FakeEngineFactory.MarkerFile), "test/other-model");

        var result = await CliHarness.RunAsync(
            ["search", "-m", fakeModel.Path, "--store", Store, "--text", "a bag"],
            engines: [new FakeEngineFactory()]);

        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Contains("was built with model", result.Error, StringComparison.Ordinal);
        Assert.Contains("test/other-model", result.Error, StringComparison.Ordinal);
        Assert.Contains("(8-d)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_store_or_collection_and_a_missing_query_are_reported()
    {
        var noStore = await CliHarness.RunAsync(["search", "-m", DemoBundle.ModelFolder, "--store", _work.Combine("none.db"), "--text", "x"]);
        await IndexAsync();
        var noCollection = await CliHarness.RunAsync(["search", "-m", DemoBundle.ModelFolder, "--store", Store, "--collection", "other", "--text", "x"]);
        var noQuery = await CliHarness.RunAsync(["search", "-m", DemoBundle.ModelFolder, "--store", Store]);

        Assert.Equal(ExitCodes.InputError, noStore.ExitCode);
        Assert.Contains("vlm2vec index", noStore.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InputError, noCollection.ExitCode);
        Assert.Contains($"collections: {VectorIndex.DefaultCollection}", noCollection.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.UsageError, noQuery.ExitCode);
    }
}
