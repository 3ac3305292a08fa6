using System.Text.Json.Nodes;
using Vlm2Vec.OnnxRuntime.Tests.Support;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Checkpoints;
using Vlm2Vec.TorchSharp.Export;

namespace Vlm2Vec.OnnxRuntime.Tests;

/// <summary>
/// The exporter checks everything before it writes, names what is wrong, writes through a hidden staging folder and
/// never leaves a half-written bundle; the bundle it writes describes itself correctly.
/// </summary>
[Collection(ExportedBundlesCollection.Name)]
public sealed class ExporterTests(ExportedBundles bundles) : IDisposable
{
    private readonly TempFolder _temp = new("vlm2vec-exporter");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_manifest_describes_the_bundle()
    {
        var folder = bundles.Get("tiny-qwen2vl-tied");
        var manifest = Vlm2VecBundleManifest.Load(folder);

        Assert.Equal(Vlm2VecBundleManifest.CurrentFormatVersion, manifest.FormatVersion);
        Assert.Equal("qwen2_vl", manifest.Architecture);
        Assert.Equal(64, manifest.EmbeddingDimension);
        Assert.Equal("float32", manifest.DType);
        Assert.Equal(270, manifest.PadTokenId);
        Assert.Equal(new Vlm2VecBundleLimits { MaxTokens = 32768, MinPixels = 3136, MaxPixels = 12845056 }, manifest.Limits);
        Assert.Equal(ReferenceCases.Model("tiny-qwen2vl-tied"), manifest.Provenance.SourceCheckpoint);
        Assert.Null(manifest.Provenance.Adapter);
        Assert.Equal(21, manifest.Provenance.OnnxOpset);
        Assert.Equal(
            ["vision.onnx", "vision.onnx_data", "text.onnx", "text.onnx_data", "config.json", "tokenizer.json", "preprocessor_config.json", "tokenizer_config.json"],
            manifest.Files.Select(f => f.Path));
        foreach (var file in manifest.Files)
        {
            Assert.Equal(file, Vlm2VecBundleFile.FromFile(folder, file.Path));
        }

        Assert.Equal("vision.onnx_data", manifest.Graph(Vlm2VecBundleGraph.VisionRole).DataFile);
        Assert.Equal(
            ["input_ids", "attention_mask", "position_ids", "image_token_mask", "image_embeds"],
            manifest.Graph(Vlm2VecBundleGraph.TextRole).Inputs.Select(i => i.Name));

        // config.json is the checkpoint's own file, byte for byte.
        Assert.Equal(File.ReadAllBytes(Path.Combine(ReferenceCases.Model("tiny-qwen2vl-tied"), "config.json")), File.ReadAllBytes(Path.Combine(folder, "config.json")));

        // The .onnx files hold the graph and small constants only; the weights are external.
        Assert.True(new FileInfo(Path.Combine(folder, "text.onnx")).Length < new FileInfo(Path.Combine(folder, "text.onnx_data")).Length / 4);
    }

    [Fact]
    public async Task An_unsupported_architecture_fails_before_anything_is_written()
    {
        var model = CopyModel("tiny-qwen2vl-tied");
        var configPath = Path.Combine(model, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["model_type"] = "llava";
        File.WriteAllText(configPath, config.ToJsonString());
        var target = _temp.Combine("out");

        var error = await Assert.ThrowsAsync<ModelFormatException>(() => Export(model, null, target));
        Assert.Contains("model_type 'llava'", error.Message, StringComparison.Ordinal);
        Assert.Contains("supported: qwen2_vl", error.Message, StringComparison.Ordinal);
        AssertNothingWritten(target);
    }

    [Fact]
    public async Task A_folder_without_weights_is_refused()
    {
        var model = _temp.Combine("config-only");
        Directory.CreateDirectory(model);
        File.Copy(Path.Combine(ReferenceCases.Model("tiny-qwen2vl-tied"), "config.json"), Path.Combine(model, "config.json"));
        var target = _temp.Combine("out");

        var error = await Assert.ThrowsAsync<ModelFormatException>(() => Export(model, null, target));
        Assert.Contains("has no model weights", error.Message, StringComparison.Ordinal);
        AssertNothingWritten(target);
    }

    [Fact]
    public async Task A_checkpoint_without_tokenizer_needs_a_tokenizer_folder()
    {
        var target = _temp.Combine("out");
        var error = await Assert.ThrowsAsync<ModelFormatException>(() =>
            Vlm2VecOnnxExporter.ExportAsync(ReferenceCases.Model("tiny-qwen2vl-tied"), null, target));
        Assert.Contains("No tokenizer.json in", error.Message, StringComparison.Ordinal);
        Assert.Contains("--tokenizer", error.Message, StringComparison.Ordinal);
        AssertNothingWritten(target);
    }

    [Fact]
    public async Task A_tokenizer_of_another_model_is_refused_before_writing()
    {
        var target = _temp.Combine("out");
        var options = new Vlm2VecExportOptions { TokenizerFolder = bundles.TokenizerFor("tiny-qwen2vl-untied-sharded") };
        var error = await Assert.ThrowsAsync<ModelFormatException>(() =>
            Vlm2VecOnnxExporter.ExportAsync(ReferenceCases.Model("tiny-qwen2vl-tied"), null, target, options));
        Assert.Contains("does not belong to this model", error.Message, StringComparison.Ordinal);
        AssertNothingWritten(target);
    }

    [Fact]
    public async Task An_adapter_for_another_base_model_is_refused()
    {
        var target = _temp.Combine("out");
        var options = new Vlm2VecExportOptions { TokenizerFolder = bundles.TokenizerFor("tiny-qwen2vl-untied-sharded") };
        var error = await Assert.ThrowsAsync<ModelFormatException>(() =>
            Vlm2VecOnnxExporter.ExportAsync(ReferenceCases.Model("tiny-qwen2vl-untied-sharded"), ReferenceCases.Adapter("dora"), target, options));
        Assert.Contains("does not fit the base model", error.Message, StringComparison.Ordinal);
        Assert.Contains("down_proj", error.Message, StringComparison.Ordinal);
        AssertNothingWritten(target);
    }

    [Fact]
    public async Task A_missing_adapter_folder_is_named()
    {
        var target = _temp.Combine("out");
        var missing = _temp.Combine("no-such-adapter");
        var error = await Assert.ThrowsAsync<ModelFormatException>(() => Export(ReferenceCases.Model("tiny-qwen2vl-tied"), missing, target));
        Assert.Contains("Adapter folder", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        AssertNothingWritten(target);
    }

    [Fact]
    public async Task Weights_that_do_not_fit_the_config_are_listed()
    {
        var model = CopyModel("tiny-qwen2vl-tied");
        var configPath = Path.Combine(model, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["num_hidden_layers"] = 3;
        config["intermediate_size"] = 64;
        File.WriteAllText(configPath, config.ToJsonString());
        var target = _temp.Combine("out");

        var error = await Assert.ThrowsAsync<ModelFormatException>(() => Export(model, null, target));
        Assert.Contains("do not fit its config.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("model.layers.2.input_layernorm.weight: missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("model.layers.0.mlp.down_proj.weight: [64, 96], expected [64, 64]", error.Message, StringComparison.Ordinal);
        AssertNothingWritten(target);
    }

    [Fact]
    public async Task Cancelling_mid_export_leaves_no_bundle_and_no_staging_folder()
    {
        var target = _temp.Combine("cancelled");
        using var cancellation = new CancellationTokenSource();
        var stages = new List<Vlm2VecExportStage>();
        var options = new Vlm2VecExportOptions
        {
            TokenizerFolder = bundles.TokenizerFor("tiny-qwen2vl-tied"),
            Progress = new InlineProgress<Vlm2VecExportProgress>(p =>
            {
                stages.Add(p.Stage);
                if (p.Stage == Vlm2VecExportStage.WritingTextGraph && p.Done > 0)
                {
                    cancellation.Cancel();
                }
            }),
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Vlm2VecOnnxExporter.ExportAsync(ReferenceCases.Model("tiny-qwen2vl-tied"), null, target, options, cancellation.Token));

        Assert.Contains(Vlm2VecExportStage.WritingVisionGraph, stages);
        Assert.DoesNotContain(Vlm2VecExportStage.WritingManifest, stages);
        AssertNothingWritten(target);
    }

    [Fact]
    public async Task Progress_covers_every_stage_in_order_and_reaches_the_totals()
    {
        var target = _temp.Combine("progress");
        var reports = new List<Vlm2VecExportProgress>();
        var options = new Vlm2VecExportOptions { TokenizerFolder = bundles.TokenizerFor("tiny-qwen2vl-tied"), Progress = new InlineProgress<Vlm2VecExportProgress>(reports.Add) };

        await Vlm2VecOnnxExporter.ExportAsync(ReferenceCases.Model("tiny-qwen2vl-tied"), null, target, options);

        var order = reports.Select(r => r.Stage).Distinct().ToList();
        Assert.Equal(Enum.GetValues<Vlm2VecExportStage>(), order);
        foreach (var stage in new[] { Vlm2VecExportStage.LoadingWeights, Vlm2VecExportStage.WritingVisionGraph, Vlm2VecExportStage.WritingTextGraph })
        {
            var last = reports.Last(r => r.Stage == stage);
            Assert.True(last.Total > 0 && last.Done == last.Total, $"{stage}: {last.Done} of {last.Total}");
        }
    }

    [Fact]
    public async Task An_existing_bundle_is_replaced_only_with_Overwrite_and_other_folders_never()
    {
        var target = _temp.Combine("existing");
        await Export(ReferenceCases.Model("tiny-qwen2vl-tied"), null, target);
        var first = Vlm2VecBundleManifest.Load(target).Provenance.ExportedAt;

        var refused = await Assert.ThrowsAsync<IOException>(() => Export(ReferenceCases.Model("tiny-qwen2vl-tied"), null, target));
        Assert.Contains("already holds a bundle", refused.Message, StringComparison.Ordinal);

        await Task.Delay(1100);
        await Export(ReferenceCases.Model("tiny-qwen2vl-tied"), null, target, overwrite: true);
        Assert.True(Vlm2VecBundleManifest.Load(target).Provenance.ExportedAt > first);
        Assert.Empty(Directory.GetDirectories(_temp.Path, ".*"));

        var other = _temp.Combine("not-a-bundle");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "notes.txt"), "mine");
        var error = await Assert.ThrowsAsync<IOException>(() => Export(ReferenceCases.Model("tiny-qwen2vl-tied"), null, other, overwrite: true));
        Assert.Contains("is not a model bundle", error.Message, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(other, "notes.txt")));
    }

    [Fact]
    public async Task An_in_memory_state_dict_exports_to_the_same_embeddings_as_the_folder()
    {
        TorchSharpRuntime.EnsureLoaded();
        var checkpoint = CheckpointFolder.Open(ReferenceCases.Model("tiny-qwen2vl-tied"));
        var stateDict = checkpoint.LoadStateDict();
        var target = _temp.Combine("in-memory");
        try
        {
            await Vlm2VecOnnxExporter.ExportAsync(checkpoint.LoadConfig(), stateDict, target,
                new Vlm2VecExportOptions { TokenizerFolder = bundles.TokenizerFor("tiny-qwen2vl-tied"), ModelId = "trained-in-memory" });
        }
        finally
        {
            foreach (var tensor in stateDict.Values)
            {
                tensor.Dispose();
            }
        }

        var folder = ReferenceCases.Case("tiny-qwen2vl-tied", "vlm2vec_image_mixed");
        using var fromMemory = OnnxVlm2VecEncoder.FromBundle(target);
        using var fromFolder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"));
        Assert.Equal("trained-in-memory", fromMemory.Info.ModelId);
        var batch = ReferenceCases.Batch(folder, 276);
        var a = await fromMemory.EncodeAsync(batch);
        var b = await fromFolder.EncodeAsync(batch);
        for (var row = 0; row < a.Length; row++)
        {
            Assert.Equal(b[row], a[row]);
        }
    }

    private Task<Vlm2VecBundleManifest> Export(string model, string? adapter, string target, bool overwrite = false) =>
        Vlm2VecOnnxExporter.ExportAsync(model, adapter, target, new Vlm2VecExportOptions { TokenizerFolder = bundles.TokenizerFor("tiny-qwen2vl-tied"), Overwrite = overwrite });

    private string CopyModel(string name)
    {
        var target = _temp.Combine("model-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(ReferenceCases.Model(name)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    /// <summary>Nothing at the target and no staging folder beside it.</summary>
    private void AssertNothingWritten(string target)
    {
        Assert.False(Directory.Exists(target), $"{target} exists");
        var parent = Path.GetDirectoryName(target)!;
        Assert.Empty(Directory.GetDirectories(parent, "." + Path.GetFileName(target) + "*"));
    }

    /// <summary>Reports on the calling thread, in order.</summary>
    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
