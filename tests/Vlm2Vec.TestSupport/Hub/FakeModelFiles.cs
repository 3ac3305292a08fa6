using System.Text;

namespace Vlm2Vec.TestSupport.Hub;

/// <summary>Generated files of a small Qwen2-VL-style model repository (deterministic content).</summary>
public static class FakeModelFiles
{
    public const string Shard1 = "model-00001-of-00002.safetensors";
    public const string Shard2 = "model-00002-of-00002.safetensors";
    public const string ShardIndex = "model.safetensors.index.json";

    /// <summary>The files <c>HubFileFilter.Vlm2VecModel</c> takes from <see cref="Create"/>'s repository.</summary>
    public static readonly string[] DefaultSelection =
    [
        "config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", Shard1, Shard2, ShardIndex,
    ];

    public static Dictionary<string, byte[]> Create(string configVariant = "main", int shard1Bytes = 400_000, int shard2Bytes = 250_000)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["config.json"] = Utf8($$"""{"architectures":["Qwen2VLForConditionalGeneration"],"hidden_size":64,"variant":"{{configVariant}}"}"""),
            ["preprocessor_config.json"] = Utf8("""{"image_processor_type":"Qwen2VLImageProcessor","min_pixels":3136,"max_pixels":12845056}"""),
            ["tokenizer.json"] = Utf8("{\"model\":{\"type\":\"BPE\",\"vocab\":{" + string.Join(",", Enumerable.Range(0, 600).Select(i => $"\"t{i}\":{i}")) + "}}}"),
            ["tokenizer_config.json"] = Utf8("""{"model_max_length":32768,"padding_side":"left"}"""),
            [Shard1] = Bytes(shard1Bytes, seed: 1),
            [Shard2] = Bytes(shard2Bytes, seed: 2),
            [ShardIndex] = Utf8($$$"""{"metadata":{"total_size":{{{shard1Bytes + shard2Bytes}}}},"weight_map":{"a":"{{{Shard1}}}","b":"{{{Shard2}}}"}}"""),
            ["pytorch_model.bin"] = Bytes(120_000, seed: 3),
            ["training_args.bin"] = Bytes(5_000, seed: 4),
            ["README.md"] = Utf8("# tiny model\n"),
            ["eval/mmeb_score.json"] = Utf8("""{"score":0.5}"""),
        };
        return files;
    }

    public static byte[] Bytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
