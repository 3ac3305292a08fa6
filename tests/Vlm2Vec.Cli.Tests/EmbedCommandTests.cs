using System.Text.Json;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

public sealed class EmbedCommandTests : IDisposable
{
    private readonly TempFolder _work = new("vlm2vec-embed-cli");

    public void Dispose() => _work.Dispose();

    private static List<(int Index, int? Line, float[] Vector)> ParseJsonLines(string text)
    {
        var rows = new List<(int, int?, float[])>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var vector = root.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.Equal(root.GetProperty("dimension").GetInt32(), vector.Length);
            rows.Add((root.GetProperty("index").GetInt32(), root.TryGetProperty("line", out var l) ? l.GetInt32() : null, vector));
        }

        return rows;
    }

    private string WriteJsonl(params string[] lines)
    {
        File.Copy(DemoBundle.Image("bag-1.png"), _work.Combine("bag.png"), overwrite: true);
        File.Copy(SharedData.Path("images", "robustness", "truncated_jpeg.jpg"), _work.Combine("broken.jpg"), overwrite: true);
        var path = _work.Combine("inputs.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task A_text_from_the_command_line_prints_one_json_object_with_a_unit_vector_equal_to_the_library_embedding()
    {
        var result = await CliHarness.RunAsync(["embed", "--model", DemoBundle.ModelFolder, "--text", "Sneaker", "--role", "target"]);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        var (index, line, vector) = Assert.Single(ParseJsonLines(result.Out));
        Assert.Equal(0, index);
        Assert.Null(line);
        Assert.Equal(48, vector.Length);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 4);

        using var encoder = new Vlm2Vec.OnnxRuntime.OnnxRuntimeEncoderFactory().Create(new Vlm2VecEncoderOptions { ModelPath = DemoBundle.ModelFolder });
        var expected = await new Vlm2VecEmbedder(encoder).EmbedAsync(MultimodalInput.FromText("Sneaker", role: EmbeddingRole.Target));
        Assert.Equal(expected, vector); // JSON floats round-trip exactly
    }

    [Fact]
    public async Task A_jsonl_file_written_as_npy_round_trips_against_the_json_output()
    {
        var input = WriteJsonl(
            """{"text":"Find me an everyday image that matches the given caption: a photo of a bag"}""",
            "",
            """{"image":"bag.png","role":"target"}""",
            """{"image":"bag.png","text":"a bag","instruction":"Represent the given image with the following question:"}""");
        var npyPath = _work.Combine("out", "vectors.npy");

        var npyRun = await CliHarness.RunAsync(["embed", "-m", DemoBundle.ModelFolder, "--input", input, "--out", npyPath]);
        var jsonRun = await CliHarness.RunAsync(["embed", "-m", DemoBundle.ModelFolder, "--input", input, "--format", "json"]);

        Assert.True(npyRun.ExitCode == ExitCodes.Success, npyRun.ToString());
        Assert.True(jsonRun.ExitCode == ExitCodes.Success, jsonRun.ToString());
        var npy = NpyFile.Read(npyPath);
        var json = ParseJsonLines(jsonRun.Out);
        Assert.Equal(3, npy.Rows);
        Assert.Equal(48, npy.Columns);
        Assert.Equal([1, 3, 4], json.Select(r => r.Line!.Value));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(i, json[i].Index);
            Assert.Equal(json[i].Vector, npy.Row(i));
        }

        Assert.NotEqual(npy.Row(1), npy.Row(2)); // the instruction and text change the image's embedding
        Assert.Contains("Embedded 3 input(s)", npyRun.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_lines_fail_with_their_line_numbers_and_write_nothing_unless_skipped()
    {
        var input = WriteJsonl(
            """{"text":"Bag"}""",
            """{"text": 42}""",
            "not json",
            """{"image":"broken.jpg"}""",
            """{"image":"missing.png"}""",
            """{"text":"Dress","role":"target"}""");
        var outPath = _work.Combine("vectors.jsonl");

        var failing = await CliHarness.RunAsync(["embed", "-m", DemoBundle.ModelFolder, "--input", input, "--out", outPath]);

        Assert.Equal(ExitCodes.InputError, failing.ExitCode);
        foreach (var line in new[] { "line 2", "line 3", "line 5" })
        {
            Assert.Contains(line, failing.Error, StringComparison.Ordinal);
        }

        Assert.Contains("--bad-rows skip", failing.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(outPath));

        var skipping = await CliHarness.RunAsync(["embed", "-m", DemoBundle.ModelFolder, "--input", input, "--out", outPath, "--bad-rows", "skip"]);

        Assert.True(skipping.ExitCode == ExitCodes.Success, skipping.ToString());
        var rows = ParseJsonLines(File.ReadAllText(outPath));
        Assert.Equal([1, 6], rows.Select(r => r.Line!.Value)); // the good lines before and after the bad ones
        foreach (var line in new[] { "skipped line 2", "skipped line 3", "skipped line 4", "skipped line 5" })
        {
            Assert.Contains(line, skipping.Error, StringComparison.Ordinal);
        }

        Assert.Contains("truncated", skipping.Error, StringComparison.Ordinal); // the corrupt image's reason
        Assert.Contains("skipped 4 bad line(s)", skipping.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_model_is_exit_code_4_and_usage_mistakes_are_exit_code_2()
    {
        var missing = await CliHarness.RunAsync(["embed", "--model", _work.Combine("no-model"), "--text", "x"]);
        var nothing = await CliHarness.RunAsync(["embed", "--model", DemoBundle.ModelFolder]);
        var npyToStdout = await CliHarness.RunAsync(["embed", "--model", DemoBundle.ModelFolder, "--text", "x", "--format", "npy"]);

        Assert.Equal(ExitCodes.ModelError, missing.ExitCode);
        Assert.Contains("does not exist", missing.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.UsageError, nothing.ExitCode);
        Assert.Equal(ExitCodes.UsageError, npyToStdout.ExitCode);
        Assert.Contains("--out", npyToStdout.Error, StringComparison.Ordinal);
    }
}
