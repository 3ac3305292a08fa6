using System.Text.RegularExpressions;
using Vlm2Vec.Cli.Commands;
using Vlm2Vec.Cli.Search;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

public sealed class DemoCommandTests : IDisposable
{
    private readonly TempFolder _out = new("vlm2vec-demo-cli");

    public void Dispose() => _out.Dispose();

    [Fact]
    public async Task The_demo_runs_end_to_end_on_the_shipped_model_and_writes_one_self_contained_gallery()
    {
        // No --model: the demo finds the shipped model and images beside the assembly, as the installed tool does.
        var result = await CliHarness.RunAsync(["demo", "--out", _out.Path]);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var htmlPath = Path.Combine(_out.Path, DemoCommand.HtmlFileName);
        Assert.Equal(Path.GetFullPath(htmlPath), result.OutLines[^1]);
        Assert.True(File.Exists(Path.Combine(_out.Path, DemoCommand.StoreFileName)));
        Assert.Contains("not a real VLM2Vec", result.Out, StringComparison.Ordinal); // the note may wrap after it
        Assert.Contains("vlm2vec pull", result.Out, StringComparison.Ordinal);
        Assert.Contains("vlm2vec convert", result.Out, StringComparison.Ordinal);
        foreach (var caption in DemoPrompts.Captions)
        {
            Assert.Contains($"\"{caption.Caption}\"", result.Out, StringComparison.Ordinal);
        }

        Assert.Contains("sneaker-1.png", result.Out, StringComparison.Ordinal);
        var accuracy = Regex.Match(result.Out, @"Classification accuracy (\d+)/(\d+) = ([\d.]+) %");
        Assert.True(accuracy.Success, result.Out);
        Assert.Equal("50", accuracy.Groups[2].Value); // over all 50 sample images
        var correct = int.Parse(accuracy.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(correct, 0, 50);

        var page = File.ReadAllText(htmlPath);
        Assert.StartsWith("<!DOCTYPE html>", page, StringComparison.Ordinal);
        Assert.Contains("not a real VLM2Vec model", page, StringComparison.Ordinal);
        Assert.Contains($"accuracy {correct}/50", page, StringComparison.Ordinal);
        Assert.DoesNotContain("src=\"http", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.Ordinal);
        // 3 captions × 5 hits + the image query + 5 hits + 50 classified images, every image inlined.
        Assert.Equal(3 * 5 + 5 + 50, page.Split("<figure class=\"card", StringSplitOptions.None).Length - 1);
        Assert.Equal(3 * 5 + 1 + 5 + 50, page.Split("src=\"data:image/png;base64,", StringSplitOptions.None).Length - 1);
        // The classification table: one row per image with its ✓/✗, and the ✓ count is the accuracy printed.
        Assert.Equal(50, Regex.Matches(page, "<td class=\"(ok|bad)\">").Count);
        Assert.Equal(correct, Regex.Matches(page, "<td class=\"ok\">").Count);

        // A second run reuses the store: nothing is embedded again.
        var again = await CliHarness.RunAsync(["demo", "--out", _out.Path]);
        Assert.True(again.ExitCode == ExitCodes.Success, again.ToString());
        Assert.Contains("(0 embedded, 100 unchanged", again.Out, StringComparison.Ordinal);
        Assert.Contains($"Classification accuracy {correct}/50", again.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void The_demo_inputs_tokenize_exactly_as_the_training_strings()
    {
        var preprocessor = Vlm2VecPreprocessor.FromFolder(DemoBundle.ModelFolder);
        var tokenizer = preprocessor.Tokenizer;
        var image = ImageInput.FromFile(DemoBundle.Image("sneaker-1.png"));

        foreach (var label in new[] { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" })
        {
            Assert.Equal(tokenizer.Encode(label), preprocessor.Prepare(DemoPrompts.LabelTarget(label)).InputIds);
        }

        Assert.Equal(10, DemoPrompts.Labels.Count);
        Assert.Equal(
            tokenizer.Encode("Find me an everyday image that matches the given caption: a photo of a sneaker\n"),
            preprocessor.Prepare(DemoPrompts.CaptionQuery("a photo of a sneaker")).InputIds);
        Assert.Equal(
            tokenizer.Encode("<|image_pad|>\nRepresent the given image for classification\n"),
            CollapseImageTokens(preprocessor.Prepare(DemoPrompts.ClassificationInput(image)).InputIds, preprocessor.Config.ImageTokenId));
        Assert.Equal(
            tokenizer.Encode("<|image_pad|>\nRepresent the given image.\n"),
            CollapseImageTokens(preprocessor.Prepare(DemoPrompts.TargetInput(ImageInput.FromFile(DemoBundle.Image("bag-1.png")))).InputIds, preprocessor.Config.ImageTokenId));
    }

    [Fact]
    public void The_shipped_labels_file_names_all_50_images_with_one_of_the_10_labels()
    {
        var labels = DemoAssets.ReadLabels(DemoBundle.ImagesFolder);

        Assert.Equal(50, labels.Count);
        Assert.All(labels, pair => Assert.True(File.Exists(DemoBundle.Image(pair.Key)), pair.Key));
        Assert.All(labels.Values, label => Assert.Contains(label, DemoPrompts.Labels));
        Assert.Equal(10, labels.Values.Distinct().Count());
    }

    [Fact]
    public async Task A_store_left_by_a_run_with_another_model_is_rebuilt_not_refused()
    {
        using var fakeModel = new TempFolder("vlm2vec-demo-fake");
        File.WriteAllText(Path.Combine(fakeModel.Path, FakeEngineFactory.MarkerFile), "test/fake-demo");
        var fake = await CliHarness.RunAsync(["demo", "--model", fakeModel.Path, "--out", _out.Path], engines: [new FakeEngineFactory()]);
        Assert.True(fake.ExitCode == ExitCodes.Success, fake.ToString());

        var shipped = await CliHarness.RunAsync(["demo", "--out", _out.Path]);

        Assert.True(shipped.ExitCode == ExitCodes.Success, shipped.ToString());
        Assert.Contains("rebuilt", shipped.Error, StringComparison.Ordinal);
        Assert.Contains("(100 embedded, 0 unchanged", shipped.Out, StringComparison.Ordinal);
        Assert.Contains("Classification accuracy", shipped.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_model_folder_is_exit_code_4()
    {
        var result = await CliHarness.RunAsync(["demo", "--model", _out.Combine("nope"), "--out", _out.Path]);

        Assert.Equal(ExitCodes.ModelError, result.ExitCode);
    }

    /// <summary>The ids with each run of image tokens (one per merged patch) folded back to the one placeholder.</summary>
    private static int[] CollapseImageTokens(int[] ids, int imageTokenId)
    {
        var collapsed = new List<int>(ids.Length);
        foreach (var id in ids)
        {
            if (id != imageTokenId || collapsed.Count == 0 || collapsed[^1] != imageTokenId)
            {
                collapsed.Add(id);
            }
        }

        Assert.Contains(imageTokenId, collapsed);
        return [.. collapsed];
    }
}
