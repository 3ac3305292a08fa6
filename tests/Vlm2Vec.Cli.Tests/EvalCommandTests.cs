using System.Text.Json;
using Vlm2Vec.Cli.Commands;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

public sealed class EvalCommandTests : IDisposable
{
    private readonly TempFolder _out = new("vlm2vec-eval-cli");
    private readonly TempFolder _model = new("vlm2vec-model");

    public void Dispose()
    {
        _out.Dispose();
        _model.Dispose();
    }

    private static string Derived(string name) => SharedData.Path("mmeb", "derived", name + ".jsonl");

    private string[] Args(params string[] extra) =>
        ["eval", "--model", _model.Path, "--image-root", SharedData.DataRoot, "--out", _out.Path, .. extra];

    private Task<CliRunResult> RunWithFakeAsync(FakeEvalEncoder encoder, params string[] args)
    {
        File.WriteAllText(Path.Combine(_model.Path, FakeEngineFactory.MarkerFile), string.Empty);
        return CliHarness.RunAsync(args, engines: [new FakeEngineFactory(encoder)]);
    }

    [Fact]
    public async Task The_happy_path_prints_the_table_and_writes_the_three_reports()
    {
        var encoder = new FakeEvalEncoder();
        var result = await RunWithFakeAsync(encoder, Args("--data", SharedData.Path("mmeb", "derived"), "--limit", "5", "--ndcg", "--batch-size", "4"));

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        foreach (var name in new[] { "caltech101-test10_cls", "coco-mini_i2t", "coco-mini_t2i", "pope-coco-mini_vqa", "Overall", "NDCG@5" })
        {
            Assert.Contains(name, result.Out, StringComparison.Ordinal);
        }

        Assert.Contains("[4/4] pope-coco-mini_vqa: hit@1", result.Error, StringComparison.Ordinal); // one progress line per dataset
        Assert.Contains("report.html", result.Error, StringComparison.Ordinal);
        Assert.True(encoder.Disposed);

        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_out.Path, "scores.json")));
        var datasets = json.RootElement.GetProperty("datasets").EnumerateArray().ToList();
        Assert.Equal(4, datasets.Count);
        Assert.All(datasets, d => Assert.Equal(5, d.GetProperty("n").GetInt32()));
        Assert.All(datasets, d => Assert.True(d.TryGetProperty("ndcg@5", out _)));
        Assert.Equal("test/fake-eval", json.RootElement.GetProperty("model").GetProperty("id").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("settings").GetProperty("maxBatchSize").GetInt32());
        Assert.Equal(
            datasets.Sum(d => d.GetProperty("uniqueQueries").GetInt32() + d.GetProperty("uniqueCandidates").GetInt32()),
            encoder.RowsEncoded);

        var html = File.ReadAllText(Path.Combine(_out.Path, "report.html"));
        Assert.Equal(4, html.Split("<g class=\"bar\"").Length - 1);
        Assert.Contains("<img class=\"thumb\" src=\"thumbnails/", html, StringComparison.Ordinal);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_out.Path, "thumbnails"), "*.jpg"));
        Assert.Contains("| coco-mini_t2i |", File.ReadAllText(Path.Combine(_out.Path, "report.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_output_is_the_scores_file_and_a_cache_dir_makes_the_rerun_embed_nothing()
    {
        using var cache = new TempFolder("vlm2vec-eval-cache");
        var args = Args("--data", Derived("pope-coco-mini_vqa"), "--json", "--cache-dir", cache.Path, "--no-thumbnails", "--quiet");
        var first = new FakeEvalEncoder();
        var firstRun = await RunWithFakeAsync(first, args);
        var second = new FakeEvalEncoder();
        var secondRun = await RunWithFakeAsync(second, args);

        Assert.Equal(ExitCodes.Success, firstRun.ExitCode);
        Assert.Equal(ExitCodes.Success, secondRun.ExitCode);
        Assert.Equal(string.Empty, secondRun.Error); // --quiet: results only
        using var json = JsonDocument.Parse(secondRun.Out);
        var dataset = Assert.Single(json.RootElement.GetProperty("datasets").EnumerateArray());
        Assert.Equal(54, dataset.GetProperty("n").GetInt32());
        Assert.Equal(0, second.RowsEncoded);
        Assert.True(first.RowsEncoded > 0);
        Assert.Equal(first.RowsEncoded, dataset.GetProperty("cached").GetInt32());
        using var firstJson = JsonDocument.Parse(firstRun.Out);
        Assert.Equal(
            firstJson.RootElement.GetProperty("datasets")[0].GetProperty("hit@1").GetDouble(),
            dataset.GetProperty("hit@1").GetDouble());
        Assert.False(Directory.Exists(Path.Combine(_out.Path, "thumbnails")));
    }

    [Fact]
    public async Task A_malformed_row_exits_3_naming_the_line_and_field_and_skip_invalid_goes_on()
    {
        var data = Path.Combine(_out.Path, "data");
        Directory.CreateDirectory(data);
        var file = Path.Combine(data, "broken_vqa.jsonl");
        var good = File.ReadLines(Derived("pope-coco-mini_vqa")).Take(3).ToList();
        File.WriteAllLines(file, [good[0], good[1], """{"qry_text": "Is it?", "qry_img_path": "", "tgt_text": ["yes", "no"], "tgt_img_path": [""]}""", good[2]]);

        var failed = await RunWithFakeAsync(new FakeEvalEncoder(), Args("--data", file));
        Assert.Equal(ExitCodes.InputError, failed.ExitCode);
        var line = Assert.Single(failed.ErrorLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains("line 3", line, StringComparison.Ordinal);
        Assert.Contains("'tgt_img_path' has 1 entries but 'tgt_text' has 2", line, StringComparison.Ordinal);
        Assert.False(TestText.HasStackFrame(failed.Error), failed.Error);

        var skipped = await RunWithFakeAsync(new FakeEvalEncoder(), Args("--data", file, "--skip-invalid", "--json", "--no-thumbnails"));
        Assert.Equal(ExitCodes.Success, skipped.ExitCode);
        Assert.Contains("skipped 1 malformed row", skipped.Error, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(skipped.Out);
        var dataset = json.RootElement.GetProperty("datasets")[0];
        Assert.Equal(3, dataset.GetProperty("n").GetInt32());
        Assert.Equal(1, dataset.GetProperty("skippedRows").GetInt32());
    }

    [Fact]
    public async Task Data_paths_and_image_roots_that_do_not_exist_are_input_or_usage_errors()
    {
        var missingData = await RunWithFakeAsync(new FakeEvalEncoder(), Args("--data", Path.Combine(_out.Path, "nothing.jsonl")));
        Assert.Equal(ExitCodes.InputError, missingData.ExitCode);
        Assert.Contains("nothing.jsonl", Assert.Single(missingData.ErrorLines), StringComparison.Ordinal);

        var wrongRoot = await RunWithFakeAsync(new FakeEvalEncoder(), ["eval", "--model", _model.Path, "--data", Derived("coco-mini_i2t"), "--out", _out.Path]);
        Assert.Equal(ExitCodes.InputError, wrongRoot.ExitCode);
        Assert.Contains("--image-root", Assert.Single(wrongRoot.ErrorLines), StringComparison.Ordinal);

        var noRoot = await RunWithFakeAsync(new FakeEvalEncoder(), ["eval", "--model", _model.Path, "--data", Derived("coco-mini_i2t"), "--image-root", Path.Combine(_out.Path, "nope")]);
        Assert.Equal(ExitCodes.UsageError, noRoot.ExitCode);
    }

    [Theory]
    [InlineData("--limit", "0", "--limit must be a positive number")]
    [InlineData("--batch-size", "-1", "--batch-size must be positive")]
    [InlineData("--compare", "CLIP", "--compare 'CLIP' has no published scores")]
    [InlineData("--examples", "-2", "--examples must be 0 or more")]
    public async Task Bad_option_values_are_usage_errors(string option, string value, string message)
    {
        var result = await RunWithFakeAsync(new FakeEvalEncoder(), Args("--data", Derived("pope-coco-mini_vqa"), option, value));

        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains(message, Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Required_options_are_usage_errors()
    {
        var noModel = await CliHarness.RunAsync(["eval", "--data", Derived("pope-coco-mini_vqa")]);
        Assert.Equal(ExitCodes.UsageError, noModel.ExitCode);
        Assert.Contains("--model", noModel.Error, StringComparison.Ordinal);

        var noData = await CliHarness.RunAsync(["eval", "--model", _model.Path]);
        Assert.Equal(ExitCodes.UsageError, noData.ExitCode);
        Assert.Contains("--data", noData.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_folders_without_an_engine_that_opens_them_are_model_errors_saying_what_they_are()
    {
        var data = Derived("pope-coco-mini_vqa");
        string[] Run(string model) => ["eval", "--model", model, "--data", data, "--image-root", SharedData.DataRoot, "--out", _out.Path];
        var missing = await CliHarness.RunAsync(Run(Path.Combine(_model.Path, "absent")));
        Assert.Equal(ExitCodes.ModelError, missing.ExitCode);
        Assert.Contains("does not exist", missing.Error, StringComparison.Ordinal);

        var empty = await CliHarness.RunAsync(Run(_model.Path));
        Assert.Equal(ExitCodes.ModelError, empty.ExitCode);
        Assert.Contains("is not a model folder", empty.Error, StringComparison.Ordinal);
        Assert.Contains("Engines present: torchsharp", empty.Error, StringComparison.Ordinal); // the engines the tool carries

        File.WriteAllText(Path.Combine(_model.Path, "config.json"), "{}");
        File.WriteAllBytes(Path.Combine(_model.Path, "model.safetensors"), [0]);
        var checkpoint = await CliHarness.RunAsync(Run(_model.Path), engines: []);
        Assert.Equal(ExitCodes.ModelError, checkpoint.ExitCode);
        Assert.Contains("is a Hugging Face checkpoint", checkpoint.Error, StringComparison.Ordinal);
        Assert.Contains("TorchSharp engine", checkpoint.Error, StringComparison.Ordinal);
        Assert.Equal(ModelLoader.ModelFolderKind.HuggingFaceCheckpoint, ModelLoader.Detect(_model.Path));
        Assert.Contains("engines present: none", checkpoint.Error, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_model.Path, "vlm2vec.json"), "{}");
        var bundle = await CliHarness.RunAsync(Run(_model.Path), engines: []);
        Assert.Equal(ExitCodes.ModelError, bundle.ExitCode);
        Assert.Contains("ONNX Runtime engine", bundle.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tiny_real_checkpoint_is_evaluated_end_to_end_with_the_torchsharp_engine()
    {
        ServeCommandTests.TinyModel.Write(_model.Path);

        var result = await CliHarness.RunAsync(Args("--data", Derived("pope-coco-mini_vqa"), "--limit", "6", "--ndcg", "--json"));

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        var model = json.RootElement.GetProperty("model");
        Assert.Equal(32, model.GetProperty("dimension").GetInt32());
        Assert.StartsWith("torchsharp", model.GetProperty("engine").GetString(), StringComparison.Ordinal);
        var dataset = Assert.Single(json.RootElement.GetProperty("datasets").EnumerateArray());
        Assert.Equal(6, dataset.GetProperty("n").GetInt32());
        Assert.Equal(6 + 2, dataset.GetProperty("embedded").GetInt32()); // six questions on one image, "yes" and "no"
        var hit = dataset.GetProperty("hit@1").GetDouble();
        Assert.InRange(hit, 0, 100);
        Assert.Equal(0, hit * 6 / 100 % 1, 6); // a whole number of the six rows
        Assert.True(File.Exists(Path.Combine(_out.Path, "report.html")));
    }

    [Fact]
    public async Task A_published_model_id_adds_the_comparison_column()
    {
        var result = await RunWithFakeAsync(new FakeEvalEncoder("TIGER-Lab/VLM2Vec-Qwen2VL-7B"), Args("--data", Derived("pope-coco-mini_vqa"), "--no-thumbnails"));

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("published", result.Out, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_out.Path, "scores.json")));
        Assert.Equal("VLM2Vec-Qwen2VL-7B", json.RootElement.GetProperty("comparison").GetString());

        var none = await RunWithFakeAsync(new FakeEvalEncoder("TIGER-Lab/VLM2Vec-Qwen2VL-7B"), Args("--data", Derived("pope-coco-mini_vqa"), "--no-thumbnails", "--compare", "none"));
        Assert.DoesNotContain("published", none.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_exits_130()
    {
        using var cancel = new CancellationTokenSource();
        var encoder = new FakeEvalEncoder();
        File.WriteAllText(Path.Combine(_model.Path, FakeEngineFactory.MarkerFile), string.Empty);
        var result = await CliHarness.RunAsync(
            Args("--data", Derived("coco-mini_t2i"), "--limit", "3", "--batch-size", "2"),
            cancellationToken: cancel.Token,
            engines: [new CancellingFactory(cancel, encoder)]);

        Assert.Equal(ExitCodes.Interrupted, result.ExitCode);
        Assert.Contains("interrupted", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, encoder.RowsEncoded);
        Assert.True(encoder.Disposed);
    }

    private sealed class CancellingFactory(CancellationTokenSource cancel, FakeEvalEncoder encoder) : IVlm2VecEncoderFactory
    {
        public string Engine => "cancelling";

        public bool CanOpen(string modelPath) => true;

        public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options)
        {
            cancel.Cancel();
            return encoder;
        }
    }
}
