using System.Text.Json.Nodes;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

/// <summary><c>vlm2vec convert</c> on the tiny reference checkpoints: a bundle on success, one error line and the
/// right exit code otherwise, nothing left at <c>--to</c> after a failure.</summary>
public sealed class ConvertCommandTests : IDisposable
{
    private readonly TempFolder _temp = new("vlm2vec-cli-convert");
    private readonly string _tokenizer;

    public ConvertCommandTests()
    {
        // The tied fixture's config: vocab 300, pad/bos 270, vision_start 273, vision_end 274, vision_pad 275, image 276, video 277.
        _tokenizer = TinyModelFiles.WriteTokenizerFolder(_temp.Combine("tokenizer"), 300, 270, 273, 274, 275, 276, 277);
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Convert_writes_a_bundle_and_prints_its_folder()
    {
        var to = _temp.Combine("bundle");

        var result = await CliHarness.RunAsync(["convert", "--from", ReferenceFixtureFolder.Model("tiny-qwen2vl-tied"), "--adapter", ReferenceFixtureFolder.Adapter("dora"),
            "--to", to, "--tokenizer", _tokenizer, "--dtype", "fp16", "--model-id", "tiny-dora"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Path.GetFullPath(to), result.Out.Trim());
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(to, "vlm2vec.json")))!;
        Assert.Equal("tiny-dora", (string?)manifest["model_id"]);
        Assert.Equal("float16", (string?)manifest["dtype"]);
        Assert.EndsWith("dora", (string?)manifest["provenance"]!["adapter"], StringComparison.Ordinal);
        Assert.Contains("adapter dora merged", result.Error, StringComparison.Ordinal);
        Assert.Contains("text.onnx_data", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Convert_with_dtype_int8_writes_an_int8_bundle()
    {
        var to = _temp.Combine("bundle-int8");

        var result = await CliHarness.RunAsync(["convert", "--from", ReferenceFixtureFolder.Model("tiny-qwen2vl-tied"), "--to", to, "--tokenizer", _tokenizer, "--dtype", "int8"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(to, "vlm2vec.json")))!;
        Assert.Equal("int8", (string?)manifest["dtype"]);
        Assert.Contains("DynamicQuantizeMatMul", File.ReadAllText(Path.Combine(to, "text.onnx")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsupported_architecture_is_a_model_error_and_leaves_nothing()
    {
        var model = _temp.Combine("llava");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.GetFiles(ReferenceFixtureFolder.Model("tiny-qwen2vl-tied")))
        {
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        }

        var configPath = Path.Combine(model, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["model_type"] = "llava";
        File.WriteAllText(configPath, config.ToJsonString());
        var to = _temp.Combine("out");

        var result = await CliHarness.RunAsync(["convert", "--from", model, "--to", to, "--tokenizer", _tokenizer]);

        Assert.Equal(4, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("model_type 'llava'", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(to));
        Assert.Empty(result.Out);
    }

    [Fact]
    public async Task An_adapter_for_another_base_is_a_model_error()
    {
        var untiedTokenizer = TinyModelFiles.WriteTokenizerFolder(_temp.Combine("untied-tokenizer"), 256, 250, 3, 4, 5, 6, 7);
        var to = _temp.Combine("out");

        var result = await CliHarness.RunAsync(["convert", "--from", ReferenceFixtureFolder.Model("tiny-qwen2vl-untied-sharded"),
            "--adapter", ReferenceFixtureFolder.Adapter("dora"), "--to", to, "--tokenizer", untiedTokenizer]);

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("does not fit the base model", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(to));
    }

    [Fact]
    public async Task An_existing_bundle_needs_overwrite()
    {
        var to = _temp.Combine("bundle");
        string[] args = ["convert", "--from", ReferenceFixtureFolder.Model("tiny-qwen2vl-tied"), "--to", to, "--tokenizer", _tokenizer, "--quiet"];
        Assert.Equal(0, (await CliHarness.RunAsync(args)).ExitCode);

        var refused = await CliHarness.RunAsync(args);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("add --overwrite", refused.Error, StringComparison.Ordinal);

        var replaced = await CliHarness.RunAsync([.. args, "--overwrite"]);
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
    }

    [Theory]
    [InlineData("--dtype", "bf16")]
    [InlineData("--dtype", "int4")]
    [InlineData("--from", "")]
    public async Task Bad_arguments_are_usage_errors(string option, string value)
    {
        var result = await CliHarness.RunAsync(["convert", "--from", ReferenceFixtureFolder.Model("tiny-qwen2vl-tied"), "--to", _temp.Combine("x"), option, value]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error:", result.Error.Trim(), StringComparison.Ordinal);
    }
}
