using System.Globalization;
using Vlm2Vec.TorchSharp.Modeling;
using static TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>
/// Tiny random Qwen2-VL models for tests: real config.json keys, a small vocabulary and special-token ids taken from the
/// config (deliberately not Qwen's), plus helpers that build padded batches the way the reference expects them.
/// </summary>
internal static class TinyQwen2Vl
{
    public const int VisionStart = 90;
    public const int VisionEnd = 91;
    public const int VisionPad = 92;
    public const int ImageToken = 93;
    public const int VideoToken = 94;
    public const int PadToken = 95;
    public const int PatchRow = 3 * 2 * 14 * 14;

    /// <summary>A config.json text shaped like Qwen2-VL-2B (tied embeddings, GQA, q/k/v biases) but tiny.</summary>
    public static string ConfigJson(int layers = 2, int visionDepth = 2, bool tied = true, int hidden = 64, int heads = 4, int kvHeads = 2, int[]? mropeSection = null, int embedDim = 32, int visionHeads = 2)
    {
        var section = mropeSection ?? [2, 3, 3];
        return string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "architectures": ["Qwen2VLForConditionalGeneration"],
          "model_type": "qwen2_vl",
          "vocab_size": 100,
          "hidden_size": {{hidden}},
          "intermediate_size": 96,
          "num_hidden_layers": {{layers}},
          "num_attention_heads": {{heads}},
          "num_key_value_heads": {{kvHeads}},
          "hidden_act": "silu",
          "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0,
          "rope_scaling": {"type": "mrope", "mrope_section": [{{section[0]}}, {{section[1]}}, {{section[2]}}]},
          "max_position_embeddings": 4096,
          "tie_word_embeddings": {{(tied ? "true" : "false")}},
          "attention_dropout": 0.0,
          "bos_token_id": 1,
          "eos_token_id": 2,
          "vision_start_token_id": {{VisionStart}},
          "vision_end_token_id": {{VisionEnd}},
          "vision_token_id": {{VisionPad}},
          "image_token_id": {{ImageToken}},
          "video_token_id": {{VideoToken}},
          "torch_dtype": "float32",
          "vision_config": {
            "depth": {{visionDepth}},
            "embed_dim": {{embedDim}},
            "hidden_size": {{hidden}},
            "num_heads": {{visionHeads}},
            "mlp_ratio": 2,
            "in_chans": 3,
            "spatial_patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2
          }
        }
        """);
    }

    public static Qwen2VlConfig Config(int layers = 2, int visionDepth = 2, bool tied = true) =>
        Qwen2VlConfig.Parse(ConfigJson(layers, visionDepth, tied), "tiny config.json");

    public static Qwen2VlForConditionalGeneration Create(long seed = 7, ScalarType dtype = ScalarType.Float32, Qwen2VlConfig? config = null, Qwen2VlAttentionImplementation attention = Qwen2VlAttentionImplementation.Eager)
    {
        TorchSharpRuntime.EnsureLoaded();
        return Qwen2VlForConditionalGeneration.CreateRandom(
            config ?? Config(),
            new Qwen2VlRandomInitOptions { Seed = seed, DType = dtype, AttentionImplementation = attention, InitializerRange = 0.2 });
    }

    /// <summary>Deterministic pseudo-random pixel rows for a grid.</summary>
    public static float[] Pixels(long t, long h, long w, int seed)
    {
        var random = new Random(seed);
        var values = new float[t * h * w * PatchRow];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 4) - 2);
        }

        return values;
    }

    /// <summary>Token ids of a VLM2Vec-style row: image placeholders (one per merged patch) then text.</summary>
    public static long[] Row(int imageTokens, params long[] text)
    {
        var row = new long[imageTokens + text.Length];
        Array.Fill(row, ImageToken, 0, imageTokens);
        text.CopyTo(row, imageTokens);
        return row;
    }

    /// <summary>A padded batch <c>(ids, mask)</c>, each flat <c>(B, L)</c>.</summary>
    public static (long[] Ids, long[] Mask, int Length) Pad(IReadOnlyList<long[]> rows, bool left, int extra = 0)
    {
        var length = rows.Max(r => r.Length) + extra;
        var ids = new long[rows.Count * length];
        var mask = new long[rows.Count * length];
        Array.Fill(ids, PadToken);
        for (var b = 0; b < rows.Count; b++)
        {
            var offset = left ? length - rows[b].Length : 0;
            for (var j = 0; j < rows[b].Length; j++)
            {
                ids[(b * length) + offset + j] = rows[b][j];
                mask[(b * length) + offset + j] = 1;
            }
        }

        return (ids, mask, length);
    }

    /// <summary>Runs the model on rows (+ images in order) and returns the forward output (tensors live in the caller's scope).</summary>
    public static Qwen2VlForwardOutput Run(
        Qwen2VlForConditionalGeneration model,
        IReadOnlyList<long[]> rows,
        bool left = true,
        IReadOnlyList<(long T, long H, long W, float[] Pixels)>? images = null,
        bool hiddenStates = false,
        int extraPadding = 0)
    {
        var (ids, mask, length) = Pad(rows, left, extraPadding);
        Tensor? pixels = null;
        Tensor? grid = null;
        if (images is { Count: > 0 })
        {
            var all = images.SelectMany(i => i.Pixels).ToArray();
            pixels = tensor(all, [all.Length / PatchRow, PatchRow]);
            grid = tensor(images.SelectMany(i => new[] { i.T, i.H, i.W }).ToArray(), [images.Count, 3]);
        }

        return model.forward(new Qwen2VlForwardInput
        {
            InputIds = tensor(ids, [rows.Count, length]),
            AttentionMask = tensor(mask, [rows.Count, length]),
            PixelValues = pixels,
            ImageGridThw = grid,
            OutputHiddenStates = hiddenStates,
        });
    }

    public static float[] Vector(Tensor embeddings, int row) =>
        embeddings[row].to(ScalarType.Float32).contiguous().data<float>().ToArray();

    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (var i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        }

        return max;
    }
}
