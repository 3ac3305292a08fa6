using Vlm2Vec.Cli.Search;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

public sealed class IndexCommandTests : IDisposable
{
    private readonly TempFolder _work = new("vlm2vec-index-cli");

    public IndexCommandTests()
    {
        Source = _work.Combine("source");
        Directory.CreateDirectory(Path.Combine(Source, "notes"));
        Directory.CreateDirectory(Path.Combine(Source, "more", "deeper"));
        File.Copy(DemoBundle.Image("bag-1.png"), Path.Combine(Source, "bag-1.png"));
        File.Copy(DemoBundle.Image("dress-1.png"), Path.Combine(Source, "more", "deeper", "dress-1.png"));
        File.Copy(DemoBundle.Image("sneaker-1.png"), Path.Combine(Source, "more", "sneaker-1.png"));
        File.Copy(SharedData.Path("images", "robustness", "truncated_jpeg.jpg"), Path.Combine(Source, "broken.jpg"));
        File.WriteAllText(Path.Combine(Source, "notes", "shopping.txt"), "Buy a new bag\nand   a pair of sneakers.");
        File.WriteAllText(Path.Combine(Source, "notes", "ignored.csv"), "not indexed");
        Store = _work.Combine("index.db");
    }

    public string Source { get; }

    public string Store { get; }

    public void Dispose() => _work.Dispose();

    private Task<CliRunResult> IndexAsync(params string[] extra) =>
        CliHarness.RunAsync(["index", "--model", DemoBundle.ModelFolder, "--source", Source, "--store", Store, "--batch-size", "2", .. extra]);

    private async Task<Dictionary<string, IndexedItem>> ReadStoreAsync()
    {
        using var index = await VectorIndex.OpenAsync(Store, VectorIndex.DefaultCollection, DemoBundle.ModelInfo, create: false, null, CancellationToken.None);
        return await index.ReadAllAsync(includeVectors: true, CancellationToken.None);
    }

    private static int Row(CliRunResult result, string name)
    {
        var cells = result.ErrorLines
            .Select(l => l.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Single(c => c.Length == 2 && c[0] == name);
        return int.Parse(cells[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Indexes_images_and_text_recursively_and_reports_a_corrupt_image_without_stopping()
    {
        var result = await IndexAsync("--instruction", "Represent the given item.");

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Equal(Path.GetFullPath(Store), result.OutLines.Single());
        Assert.Equal(5, Row(result, "found"));
        Assert.Equal(4, Row(result, "indexed (new)"));
        Assert.Equal(1, Row(result, "failed"));
        Assert.Contains("broken.jpg", result.Error, StringComparison.Ordinal);
        Assert.Contains("truncated", result.Error, StringComparison.Ordinal);

        var items = await ReadStoreAsync();
        Assert.Equal(["bag-1.png", "more/deeper/dress-1.png", "more/sneaker-1.png", "notes/shopping.txt"], items.Keys.Order(StringComparer.Ordinal));
        var note = items["notes/shopping.txt"];
        Assert.Equal("text", note.Kind);
        Assert.Equal("Buy a new bag and a pair of sneakers.", note.Preview);
        Assert.Equal(Path.Combine(Source, "notes", "shopping.txt"), note.Path);
        Assert.Equal("image", items["bag-1.png"].Kind);
        Assert.All(items.Values, i => Assert.Equal("Represent the given item.", i.Instruction));
        Assert.All(items.Values, i => Assert.Equal(64, i.ContentHash.Length));
        Assert.All(items.Values, i => Assert.Equal(48, i.Vector.Length));
        Assert.Single(items.Values.Select(i => i.ModelId).Distinct());
    }

    [Fact]
    public async Task A_rerun_skips_unchanged_files_re_embeds_changed_ones_and_removes_deleted_ones()
    {
        var first = await IndexAsync();
        Assert.True(first.ExitCode == ExitCodes.Success, first.ToString());
        var before = await ReadStoreAsync();

        var unchanged = await IndexAsync();
        Assert.True(unchanged.ExitCode == ExitCodes.Success, unchanged.ToString());
        Assert.Equal(0, Row(unchanged, "indexed (new)"));
        Assert.Equal(4, Row(unchanged, "skipped (unchanged)"));

        File.Delete(Path.Combine(Source, "more", "sneaker-1.png"));
        File.WriteAllText(Path.Combine(Source, "notes", "shopping.txt"), "Return the dress.");
        File.Copy(DemoBundle.Image("coat-1.png"), Path.Combine(Source, "coat-1.png"));
        var changed = await IndexAsync();

        Assert.True(changed.ExitCode == ExitCodes.Success, changed.ToString());
        Assert.Equal(1, Row(changed, "indexed (new)"));
        Assert.Equal(1, Row(changed, "indexed (changed)"));
        Assert.Equal(2, Row(changed, "skipped (unchanged)"));
        Assert.Equal(1, Row(changed, "removed (deleted)"));
        var after = await ReadStoreAsync();
        Assert.Equal(["bag-1.png", "coat-1.png", "more/deeper/dress-1.png", "notes/shopping.txt"], after.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Return the dress.", after["notes/shopping.txt"].Preview);
        Assert.NotEqual(before["notes/shopping.txt"].Vector.ToArray(), after["notes/shopping.txt"].Vector.ToArray());
        Assert.Equal(before["bag-1.png"].Vector.ToArray(), after["bag-1.png"].Vector.ToArray());

        var otherInstruction = await IndexAsync("--instruction", "Represent the given image.");
        Assert.Equal(4, Row(otherInstruction, "indexed (changed)")); // another instruction re-embeds everything
    }

    [Fact]
    public async Task A_missing_source_folder_is_an_input_error()
    {
        var result = await CliHarness.RunAsync(["index", "--model", DemoBundle.ModelFolder, "--source", _work.Combine("nowhere"), "--store", Store]);

        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Contains("nowhere", result.Error, StringComparison.Ordinal);
    }
}
