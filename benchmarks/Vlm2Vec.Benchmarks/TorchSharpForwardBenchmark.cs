using System.Globalization;
using TorchSharp;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Modeling;
using static TorchSharp.torch;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// CPU forward throughput of the TorchSharp Qwen2-VL model on random weights: images per second for VLM2Vec image
/// queries at 448×448 (grid 1×32×32 → 1024 patches, 256 image tokens) and text queries per second, for a small and a
/// mid-size config (vision depth 8 / width 256, decoder 8 layers / hidden 512), in float32 and bfloat16, plus peak RSS.
/// Arguments: <c>[--quick]</c> (shorter runs), <c>[--sdpa]</c> (SDPA attention instead of eager).
/// </summary>
internal sealed class TorchSharpForwardBenchmark : IBenchmark
{
    private const int PatchRow = 3 * 2 * 14 * 14;
    private const int ImageBatch = 4;
    private const int TextBatch = 16;
    private const int TextTokens = 24;

    public string Name => "torchsharp-forward";

    public string Description => "TorchSharp Qwen2-VL CPU forward: images/s (448x448) and text queries/s, fp32/bf16, small and mid configs";

    public Task RunAsync(BenchmarkContext context, string[] args)
    {
        TorchSharpRuntime.EnsureLoaded();
        var quick = args.Contains("--quick");
        var attention = args.Contains("--sdpa") ? Qwen2VlAttentionImplementation.Sdpa : Qwen2VlAttentionImplementation.Eager;
        var seconds = quick ? 1.0 : 3.0;
        BenchmarkContext.Report($"# libtorch {__version__}, {get_num_threads()} intra-op threads, attention {attention}; image batch {ImageBatch} x (256 image tokens + 8 text), text batch {TextBatch} x {TextTokens} tokens");
        BenchmarkContext.Report("config | dtype | params | images/s | ms/image batch | text queries/s | ms/text batch | peak RSS MiB");

        foreach (var (name, json) in new[] { ("small", ConfigJson(2, 64, 2, 128, 4, 512, 2, [4, 6, 6])), ("mid", ConfigJson(8, 256, 4, 512, 8, 2816, 8, [8, 12, 12])) })
        {
            var config = Qwen2VlConfig.Parse(json, name);
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            {
                BenchmarkContext.ResetPeakWorkingSet();
                using var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = 1, DType = dtype, AttentionImplementation = attention });
                var parameters = model.parameters().Sum(p => p.numel());
                using var imageInput = ImageBatchInput(config);
                using var textInput = TextBatchInput(config);
                var imageRate = BenchmarkContext.MeasureRate(() => Run(model, imageInput.Input), seconds, 2);
                var textRate = BenchmarkContext.MeasureRate(() => Run(model, textInput.Input), seconds, 2);
                BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture,
                    $"{name} | {(dtype == ScalarType.Float32 ? "fp32" : "bf16")} | {parameters / 1e6:F1}M | {imageRate * ImageBatch:F2} | {1000 / imageRate:F0} | {textRate * TextBatch:F1} | {1000 / textRate:F0} | {BenchmarkContext.PeakWorkingSetMiB():F0}"));
            }
        }

        return Task.CompletedTask;
    }

    private static void Run(Qwen2VlForConditionalGeneration model, Qwen2VlForwardInput input)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        _ = model.forward(input).Embeddings.to(ScalarType.Float32).sum().item<float>();
    }

    private static OwnedInput ImageBatchInput(Qwen2VlConfig config)
    {
        const int imageTokens = 256;
        var length = imageTokens + 8;
        var ids = new long[ImageBatch * length];
        for (var b = 0; b < ImageBatch; b++)
        {
            for (var j = 0; j < length; j++)
            {
                ids[(b * length) + j] = j < imageTokens ? config.ImageTokenId : 100 + j;
            }
        }

        var random = new Random(5);
        var pixels = new float[ImageBatch * 1024 * PatchRow];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (float)((random.NextDouble() * 4) - 2);
        }

        var grid = Enumerable.Range(0, ImageBatch).SelectMany(_ => new long[] { 1, 32, 32 }).ToArray();
        var scope = NewDisposeScope();
        return new OwnedInput(scope, new Qwen2VlForwardInput
        {
            InputIds = tensor(ids, [ImageBatch, length]),
            AttentionMask = ones(ImageBatch, length, dtype: ScalarType.Int64),
            PixelValues = tensor(pixels, [ImageBatch * 1024, PatchRow]),
            ImageGridThw = tensor(grid, [ImageBatch, 3]),
        });
    }

    private static OwnedInput TextBatchInput(Qwen2VlConfig config)
    {
        // Left-padded rows of 12..24 tokens.
        var ids = new long[TextBatch * TextTokens];
        var mask = new long[TextBatch * TextTokens];
        for (var b = 0; b < TextBatch; b++)
        {
            var real = 12 + (b % 13);
            for (var j = 0; j < TextTokens; j++)
            {
                var isReal = j >= TextTokens - real;
                ids[(b * TextTokens) + j] = isReal ? 200 + ((b * 31) + j) % 1000 : 0;
                mask[(b * TextTokens) + j] = isReal ? 1 : 0;
            }
        }

        var scope = NewDisposeScope();
        return new OwnedInput(scope, new Qwen2VlForwardInput
        {
            InputIds = tensor(ids, [TextBatch, TextTokens]),
            AttentionMask = tensor(mask, [TextBatch, TextTokens]),
        });
    }

    private static string ConfigJson(int visionDepth, int embedDim, int visionHeads, int hidden, int heads, int intermediate, int layers, int[] mrope) =>
        string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl",
          "vocab_size": 151936, "hidden_size": {{hidden}}, "intermediate_size": {{intermediate}},
          "num_hidden_layers": {{layers}}, "num_attention_heads": {{heads}}, "num_key_value_heads": 2,
          "hidden_act": "silu", "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
          "rope_scaling": {"type": "mrope", "mrope_section": [{{mrope[0]}}, {{mrope[1]}}, {{mrope[2]}}]},
          "tie_word_embeddings": true, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
          "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656,
          "vision_config": {"depth": {{visionDepth}}, "embed_dim": {{embedDim}}, "hidden_size": {{hidden}}, "num_heads": {{visionHeads}},
            "mlp_ratio": 4, "in_chans": 3, "spatial_patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}
        }
        """);

    /// <summary>Input tensors with the dispose scope that owns them.</summary>
    private sealed record OwnedInput(DisposeScope Scope, Qwen2VlForwardInput Input) : IDisposable
    {
        public void Dispose() => Scope.Dispose();
    }
}
