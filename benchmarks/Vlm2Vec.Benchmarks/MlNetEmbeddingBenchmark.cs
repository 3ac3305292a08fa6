using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Vlm2Vec.ML;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Modeling;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// The ML.NET embedding transformer's paths on the same rows: <c>Transform</c> (batched cursor), a
/// <c>PredictionEngine</c> (row mapper, one row per model call), a model reloaded with <c>Model.Load</c> (row by row) and
/// one reloaded with <c>LoadWithVlm2Vec</c> (batched again),
/// over a small random Qwen2-VL checkpoint (hidden 128) through the TorchSharp engine, on Caltech-101 JPEGs.
/// Args: [rows] (default 64) [rows a cursor reads ahead] (default 64) [most rows per encoder call] (default 16). Each path runs
/// twice and the second pass is reported (the first warms the model and the preprocessing code).
/// </summary>
internal sealed class MlNetEmbeddingBenchmark : IBenchmark
{
    public string Name => "mlnet-embedding";

    public string Description => "EmbedWithVlm2Vec images/s: batched Transform vs PredictionEngine vs Model.Load vs LoadWithVlm2Vec (tiny Qwen2-VL, TorchSharp CPU).";

    public Task RunAsync(BenchmarkContext context, string[] args)
    {
        var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 64;
        var batchSize = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        var maxRows = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : new EmbedderOptions().MaxBatchSize;
        var folder = Path.Combine(Path.GetTempPath(), $"vlm2vec-bench-mlnet-{Environment.ProcessId}");
        try
        {
            WriteModel(context, folder);
            var caltech = context.DataPath("classification", "caltech101-test10", "images");
            var images = Directory.GetDirectories(caltech).Order(StringComparer.Ordinal)
                .SelectMany(d => Directory.GetFiles(d, "*.jpg").Order(StringComparer.Ordinal).Take(2))
                .Take(rows)
                .Select(f => new ImageRow { ImageBytes = File.ReadAllBytes(f), Caption = Path.GetFileName(Path.GetDirectoryName(f))! })
                .ToArray();

            var ml = new MLContext(seed: 1);
            var data = ml.Data.LoadFromEnumerable(images);
            var model = ml.Transforms.EmbedWithVlm2Vec(new Vlm2VecEmbeddingOptions
            {
                ModelPath = folder,
                ImageColumnName = nameof(ImageRow.ImageBytes),
                Instruction = "Represent the given image.",
                BatchSize = batchSize,
                Batching = new EmbedderOptions { MaxBatchSize = maxRows },
            }).Fit(data);

            var batched = Time(() => ml.Data.CreateEnumerable<EmbeddingRow>(model.Transform(data), false).Count());
            var engine = ml.Model.CreatePredictionEngine<ImageRow, EmbeddingRow>(model);
            var single = Time(() =>
            {
                foreach (var image in images)
                {
                    engine.Predict(image);
                }

                return images.Length;
            });
            var zip = Path.Combine(folder, "pipeline.zip");
            ml.Model.Save(model, data.Schema, zip);
            var loaded = new MLContext(seed: 2).Model.Load(zip, out _);
            var reloaded = Time(() => ml.Data.CreateEnumerable<EmbeddingRow>(loaded.Transform(data), false).Count());
            var rebound = new MLContext(seed: 3).Model.LoadWithVlm2Vec(zip, out _);
            var reboundRate = Time(() => ml.Data.CreateEnumerable<EmbeddingRow>(rebound.Transform(data), false).Count());

            BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture, $"{images.Length} Caltech-101 images, {batchSize} rows read ahead per cursor, at most {maxRows} rows per encoder call"));
            BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture, $"Transform (batched cursor): {batched:N1} images/s"));
            BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture, $"PredictionEngine (row by row): {single:N1} images/s"));
            BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture, $"Model.Load, Transform (row by row): {reloaded:N1} images/s"));
            BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture, $"Model.LoadWithVlm2Vec, Transform (batched cursor): {reboundRate:N1} images/s"));
            BenchmarkContext.Report($"peak RSS {BenchmarkContext.PeakWorkingSetMiB():N0} MiB");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static double Time(Func<int> run)
    {
        run();
        var watch = Stopwatch.StartNew();
        var count = run();
        return count / watch.Elapsed.TotalSeconds;
    }

    private static void WriteModel(BenchmarkContext context, string folder)
    {
        TorchSharpRuntime.EnsureLoaded();
        Directory.CreateDirectory(folder);
        var config = Qwen2VlConfig.Parse("""
            {"architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl", "vocab_size": 151936, "hidden_size": 128,
             "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
             "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "rope_scaling": {"type": "mrope", "mrope_section": [4, 6, 6]},
             "max_position_embeddings": 32768, "tie_word_embeddings": true, "bos_token_id": 151643, "eos_token_id": 151645,
             "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654, "image_token_id": 151655,
             "video_token_id": 151656, "torch_dtype": "float32",
             "vision_config": {"depth": 2, "embed_dim": 64, "hidden_size": 128, "num_heads": 2, "mlp_ratio": 2, "in_chans": 3,
               "spatial_patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}}
            """, "benchmark config.json");
        using (var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = 3, InitializerRange = 0.1 }))
        {
            model.SavePretrained(folder);
        }

        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json" })
        {
            File.Copy(context.DataPath("tokenizer", "qwen2-vl", file), Path.Combine(folder, file));
        }
    }

    public sealed class ImageRow
    {
        public byte[] ImageBytes { get; set; } = [];

        public string Caption { get; set; } = "";
    }

    public sealed class EmbeddingRow
    {
        public float[] Embedding { get; set; } = [];
    }
}
