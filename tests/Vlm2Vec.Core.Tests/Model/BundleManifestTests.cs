using System.Text.Json.Nodes;

namespace Vlm2Vec.Core.Tests.Model;

/// <summary><see cref="Vlm2VecBundleManifest"/>: the JSON round trip, the version checks and the field errors.</summary>
public sealed class BundleManifestTests
{
    [Fact]
    public void A_manifest_round_trips_through_its_JSON()
    {
        var manifest = Sample();

        var reread = Vlm2VecBundleManifest.Parse(manifest.ToJson());

        Assert.Equal(manifest.ToJson(), reread.ToJson());
        Assert.Equal("vlm2vec-2b", reread.ModelId);
        Assert.Equal(1536, reread.EmbeddingDimension);
        Assert.Equal(151643, reread.PadTokenId);
        Assert.Equal("Represent the query:", reread.DefaultInstructions["query"]);
        Assert.Equal(new Vlm2VecBundleLimits { MaxTokens = 32768, MinPixels = 3136, MaxPixels = 1003520 }, reread.Limits);
        var text = reread.Graph(Vlm2VecBundleGraph.TextRole);
        Assert.Equal(["batch", "sequence"], text.FindInput(Vlm2VecBundleTensorNames.InputIds)!.Shape);
        Assert.Equal(1536, text.FindOutput(Vlm2VecBundleTensorNames.Embeddings)!.FixedSize(1));
        Assert.Null(text.FindOutput(Vlm2VecBundleTensorNames.Embeddings)!.FixedSize(0));
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero), reread.Provenance.ExportedAt);

        // Fixed dimensions are JSON numbers, symbolic ones strings.
        var json = JsonNode.Parse(manifest.ToJson())!;
        var shape = json["graphs"]![1]!["outputs"]![0]!["shape"]!.AsArray();
        Assert.Equal("batch", shape[0]!.GetValue<string>());
        Assert.Equal(1536, shape[1]!.GetValue<long>());
    }

    [Theory]
    [InlineData("format_version", "2", "newer than this library reads (up to 1)")]
    [InlineData("format_version", "0", "versions start at 1")]
    [InlineData("format", "\"onnx-bundle\"", "has format 'onnx-bundle'; expected 'vlm2vec-bundle'")]
    [InlineData("pooling", "\"mean\"", "pooling 'mean' is not supported")]
    [InlineData("dtype", "\"int4\"", "dtype 'int4' is not supported (float32, float16 or int8)")]
    [InlineData("embedding_dimension", "\"wide\"", "'embedding_dimension' must be an integer")]
    [InlineData("normalize", null, "lacks 'normalize'")]
    public void Bad_fields_are_named(string key, string? value, string expected)
    {
        var json = JsonNode.Parse(Sample().ToJson())!.AsObject();
        if (value is null)
        {
            json.Remove(key);
        }
        else
        {
            json[key] = JsonNode.Parse(value);
        }

        var error = Assert.Throws<ModelFormatException>(() => Vlm2VecBundleManifest.Parse(json.ToJsonString(), "vlm2vec.json"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("vlm2vec.json", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../outside.onnx_data", "must be a plain relative path")]
    [InlineData("/etc/passwd", "must be a plain relative path")]
    public void File_paths_must_stay_inside_the_bundle(string path, string expected)
    {
        var manifest = Sample() with { Files = [.. Sample().Files, new Vlm2VecBundleFile { Path = path, Bytes = 1, Sha256 = new string('a', 64) }] };
        var error = Assert.Throws<ModelFormatException>(() => Vlm2VecBundleManifest.Parse(manifest.ToJson()));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Graph_files_must_be_listed_with_a_digest()
    {
        var manifest = Sample() with { Files = Sample().Files.Where(f => f.Path != "text.onnx").ToList() };
        var error = Assert.Throws<ModelFormatException>(() => Vlm2VecBundleManifest.Parse(manifest.ToJson()));
        Assert.Contains("graph file 'text.onnx' is not among the listed files", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_folder_is_told_to_convert()
    {
        var folder = Path.Combine(Path.GetTempPath(), "vlm2vec-manifest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "config.json"), "{}");
            var error = Assert.Throws<ModelFormatException>(() => Vlm2VecBundleManifest.Load(folder));
            Assert.Contains("has no vlm2vec.json", error.Message, StringComparison.Ordinal);
            Assert.Contains("vlm2vec convert", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void File_descriptions_hash_the_content()
    {
        var folder = Path.Combine(Path.GetTempPath(), "vlm2vec-manifest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "a.txt"), "abc");
            var file = Vlm2VecBundleFile.FromFile(folder, "a.txt");
            Assert.Equal(3, file.Bytes);
            Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", file.Sha256);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Vlm2VecBundleManifest Sample()
    {
        static Vlm2VecBundleTensor T(string name, string type, params string[] shape) => new() { Name = name, ElementType = type, Shape = shape };
        static Vlm2VecBundleFile F(string path) => new() { Path = path, Bytes = 10, Sha256 = new string('0', 64) };
        return new Vlm2VecBundleManifest
        {
            Architecture = "qwen2_vl",
            ModelId = "vlm2vec-2b",
            EmbeddingDimension = 1536,
            DType = "float32",
            PadTokenId = 151643,
            Graphs =
            [
                new Vlm2VecBundleGraph
                {
                    Role = Vlm2VecBundleGraph.VisionRole, File = "vision.onnx", DataFile = "vision.onnx_data",
                    Inputs = [T("pixel_values", "float32", "images", "patches", "1176"), T("rotary_pos_ids", "int64", "patches", "2")],
                    Outputs = [T("image_embeds", "float32", "images", "merged_patches", "1536")],
                },
                new Vlm2VecBundleGraph
                {
                    Role = Vlm2VecBundleGraph.TextRole, File = "text.onnx", DataFile = "text.onnx_data",
                    Inputs = [T("input_ids", "int64", "batch", "sequence"), T("image_embeds", "float32", "image_tokens", "1536")],
                    Outputs = [T("embeddings", "float32", "batch", "1536")],
                },
            ],
            DefaultInstructions = new Dictionary<string, string> { ["query"] = "Represent the query:" },
            Limits = new Vlm2VecBundleLimits { MaxTokens = 32768, MinPixels = 3136, MaxPixels = 1003520 },
            Files = [F("vision.onnx"), F("vision.onnx_data"), F("text.onnx"), F("text.onnx_data"), F("config.json"), F("tokenizer.json")],
            Provenance = new Vlm2VecBundleProvenance
            {
                SourceCheckpoint = "/models/Qwen2-VL-2B-Instruct", Adapter = "/models/VLM2Vec-Qwen2VL-2B", Exporter = "Vlm2Vec.TorchSharp",
                ExporterVersion = "0.1.0", ExportedAt = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero), OnnxOpset = 21,
            },
        };
    }
}
