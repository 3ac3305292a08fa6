using System.Text.Json.Nodes;
using Vlm2Vec.OnnxRuntime.Tests.Support;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.OnnxRuntime.Tests;

/// <summary>
/// Corrupt or mismatched bundles fail in <see cref="OnnxVlm2VecEncoder.FromBundle"/> with a
/// <see cref="ModelFormatException"/> that says what is wrong — never at the first request.
/// </summary>
[Collection(ExportedBundlesCollection.Name)]
public sealed class BundleValidationTests(ExportedBundles bundles) : IDisposable
{
    private readonly TempFolder _temp = new("vlm2vec-bundle-validation");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_good_copy_opens()
    {
        using var encoder = OnnxVlm2VecEncoder.FromBundle(Copy());
        Assert.Equal("tiny-qwen2vl-tied", encoder.Info.ModelId);
        Assert.Equal(64, encoder.Info.Dimension);
        Assert.Equal("onnxruntime-cpu", encoder.Info.Engine);
    }

    [Fact]
    public void Truncated_weight_data_fails_at_load()
    {
        var bundle = Copy();
        var data = Path.Combine(bundle, "text.onnx_data");
        using (var stream = new FileStream(data, FileMode.Open))
        {
            stream.SetLength(stream.Length / 2);
        }

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains("text.onnx_data", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_newer_manifest_version_fails_with_update_advice()
    {
        var bundle = Copy();
        EditManifest(bundle, m => m["format_version"] = 2);

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains("format_version 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("newer than this library reads (up to 1)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_manifest_is_not_a_bundle()
    {
        var bundle = Copy();
        File.Delete(Path.Combine(bundle, Vlm2VecBundleManifest.FileName));

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains("is not a model bundle", error.Message, StringComparison.Ordinal);
        Assert.Contains("vlm2vec convert", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("preprocessor_config.json")]
    [InlineData("vision.onnx_data")]
    [InlineData("tokenizer.json")]
    public void Missing_files_are_named(string file)
    {
        var bundle = Copy();
        File.Delete(Path.Combine(bundle, file));

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains($"{file} is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tokenizer_from_another_tiny_model_is_refused()
    {
        var bundle = Copy();
        File.Copy(Path.Combine(bundles.TokenizerFor("tiny-qwen2vl-untied-sharded"), "tokenizer.json"), Path.Combine(bundle, "tokenizer.json"), overwrite: true);

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains("tokenizer.json does not belong to this model", error.Message, StringComparison.Ordinal);
        Assert.Contains("<|image_pad|> is id 6 there but 276 in config.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_real_Qwen2_VL_tokenizer_does_not_fit_a_300_token_model()
    {
        var bundle = Copy();
        File.Copy(Path.Combine(SharedData.Qwen2VlTokenizerFolder, "tokenizer.json"), Path.Combine(bundle, "tokenizer.json"), overwrite: true);

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains("its largest token id is 151656 but the model's embedding table has 300 rows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_graph_file_fails_its_digest()
    {
        var bundle = Copy();
        var graph = Path.Combine(bundle, "text.onnx");
        var bytes = File.ReadAllBytes(graph);
        bytes[bytes.Length / 2] ^= 0x55;
        File.WriteAllBytes(graph, bytes);

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains("text.onnx does not match the manifest's SHA-256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_graph_ONNX_Runtime_cannot_parse_fails_at_load_even_with_a_matching_manifest()
    {
        var bundle = Copy();
        File.WriteAllText(Path.Combine(bundle, "vision.onnx"), "not a protobuf model");
        RecordDigest(bundle, "vision.onnx");

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains("ONNX Runtime cannot load its graphs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_size_corruption_of_the_weights_is_caught_by_the_full_digest_check()
    {
        var bundle = Copy();
        var data = Path.Combine(bundle, "text.onnx_data");
        var bytes = File.ReadAllBytes(data);
        bytes[bytes.Length - 100] ^= 0x7F;
        File.WriteAllBytes(data, bytes);

        // The default check reads large files' sizes only (documented); the full check reads every byte.
        var options = new OnnxVlm2VecEncoderOptions { BundleChecks = new Vlm2VecBundleOpenOptions { DigestSizeLimitBytes = 1024, VerifyAllDigests = true } };
        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle, options));
        Assert.Contains("text.onnx_data does not match the manifest's SHA-256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_of_another_width_than_the_manifest_is_refused()
    {
        var bundle = Copy();
        var configPath = Path.Combine(bundle, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["hidden_size"] = 128;
        config["head_dim"] = 16;
        config["vision_config"]!["hidden_size"] = 128;
        File.WriteAllText(configPath, config.ToJsonString());
        RecordDigest(bundle, "config.json");

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains("embedding_dimension 64 but config.json has hidden_size 128", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_that_misdescribes_a_graph_input_is_caught_against_the_session()
    {
        var bundle = Copy();
        EditManifest(bundle, m =>
        {
            var text = m["graphs"]!.AsArray().Single(g => (string)g!["role"]! == "text")!;
            var input = text["inputs"]!.AsArray().Single(i => (string)i!["name"]! == "image_token_mask")!;
            input["type"] = "bool";
        });

        var error = Assert.Throws<ModelFormatException>(() => OnnxVlm2VecEncoder.FromBundle(bundle));
        Assert.Contains("text graph's input 'image_token_mask' is int64", error.Message, StringComparison.Ordinal);
        Assert.Contains("manifest says bool", error.Message, StringComparison.Ordinal);
    }

    private string Copy()
    {
        var source = bundles.Get("tiny-qwen2vl-tied");
        var target = _temp.Combine(Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    private static void EditManifest(string bundle, Action<JsonObject> edit)
    {
        var path = Path.Combine(bundle, Vlm2VecBundleManifest.FileName);
        var manifest = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(manifest);
        File.WriteAllText(path, manifest.ToJsonString());
    }

    /// <summary>Updates the manifest's size and digest of a changed file (a tampered but self-consistent bundle).</summary>
    private static void RecordDigest(string bundle, string file)
    {
        var entry = Vlm2VecBundleFile.FromFile(bundle, file);
        EditManifest(bundle, m =>
        {
            var listed = m["files"]!.AsArray().Single(f => (string)f!["path"]! == file)!;
            listed["bytes"] = entry.Bytes;
            listed["sha256"] = entry.Sha256;
        });
    }
}
