using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using TorchSharp;
using Vlm2Vec.OnnxRuntime;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Export;
using Vlm2Vec.TorchSharp.Modeling;
using Vlm2Vec.TorchSharp.Onnx;
using static TorchSharp.torch;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// ONNX Runtime (CPU) vs the TorchSharp eager model on one random mid-size Qwen2-VL config (vision depth 8 / width 256,
/// decoder 8 layers / hidden 512, the real Qwen2-VL tokenizer and vocabulary), measured in one run: images/s at 448×448
/// and text queries/s at batch 1, 8 and 32, end to end through <see cref="Vlm2VecEmbedder"/> (JPEG decode, image
/// processor, tokenisation, collation, encoder, pooling); the share of end-to-end time spent outside
/// <c>InferenceSession.Run</c>; encoder-only throughput on pre-collated batches; peak RSS of each phase.
/// Engines run interleaved, round by round, so both see the same machine load; medians are reported.
/// Args: <c>[--quick]</c> fewer items; <c>[--threads N]</c> (default: all cores, both engines); <c>[--rounds N]</c>
/// (default 3); <c>[--encoder-only]</c> also time both engines on pre-collated batches; <c>[--variants]</c> also time ORT
/// graph/session variants against the default (<c>--variants-only</c>: nothing else); <c>[--gemm]</c> the fp32 GEMM
/// ceiling of both engines on the model's shapes; <c>[--no-torchsharp]</c> ORT only; <c>[--int8]</c> also an int8 bundle
/// (<see cref="Vlm2VecExportDType.Int8"/>) of the same weights, end to end beside the float32 one, with the cosine of its
/// embeddings to the float32 bundle's on the benchmark's inputs; <c>[--bf16]</c> also the TorchSharp model in bfloat16 (same
/// seed), end to end; <c>[--spin]</c> ORT's intra-op threads spin between parallel sections (ORT's default, off in the
/// encoder); <c>[--image-probe]</c> only the encoder-only time per image at batch 1 and 8, split into vision and text runs.
/// </summary>
internal sealed class OrtVsTorchSharpBenchmark : IBenchmark
{
    private const int ImageSide = 448;

    public string Name => "ort-vs-torchsharp";

    public string Description => "ORT CPU vs TorchSharp eager on a mid-size random Qwen2-VL: images/s (448x448) and text queries/s at batch 1/8/32, time outside session.Run, peak RSS";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        var quick = args.Contains("--quick");
        var threads = ArgValue(args, "--threads") ?? Environment.ProcessorCount;
        var rounds = ArgValue(args, "--rounds") ?? (quick ? 1 : 3);
        var withTorchSharp = !args.Contains("--no-torchsharp");
        var withInt8 = args.Contains("--int8");
        var withBf16 = args.Contains("--bf16");
        TorchSharpRuntime.EnsureLoaded();
        torch.set_num_threads(threads);

        var config = Qwen2VlConfig.Parse(MidConfigJson, "mid config");
        var tokenizerFolder = context.DataPath("tokenizer", "qwen2-vl");
        var temp = Path.Combine(Path.GetTempPath(), $"vlm2vec-bench-{Guid.NewGuid():N}");
        using var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = 1 });
        var parameters = model.parameters().Sum(p => p.numel());
        BenchmarkContext.Report($"# config: vision depth {config.Vision.Depth} / width {config.Vision.EmbedDim} / {config.Vision.NumHeads} heads; decoder {config.NumHiddenLayers} layers / hidden {config.HiddenSize} / {config.NumAttentionHeads} heads ({config.NumKeyValueHeads} KV) / MLP {config.IntermediateSize}; vocab {config.VocabSize}; {parameters / 1e6:F1}M parameters, random (seed 1)");
        BenchmarkContext.Report($"# threads: {threads} (ORT intra-op, libtorch); ORT {typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version}, libtorch {torch.__version__}; {rounds} interleaved round(s), medians; load average {LoadAverage()}");

        try
        {
            var sw = Stopwatch.StartNew();
            var bundle = Path.Combine(temp, "bundle");
            await Vlm2VecOnnxExporter.ExportAsync(config, model.state_dict(), bundle, new Vlm2VecExportOptions { TokenizerFolder = tokenizerFolder, ModelId = "mid-random" });
            var bytes = Directory.GetFiles(bundle).Sum(f => new FileInfo(f).Length);
            BenchmarkContext.Report($"# export (in-memory state dict, float32): {sw.Elapsed.TotalSeconds:F1} s, bundle {bytes / 1048576.0:F0} MiB");

            var spinning = args.Contains("--spin");
            using var ort = OnnxVlm2VecEncoder.FromBundle(bundle, new OnnxVlm2VecEncoderOptions { IntraOpThreads = threads, IntraOpSpinning = spinning });
            OnnxVlm2VecEncoder? ortInt8 = null;
            if (withInt8)
            {
                sw.Restart();
                var int8Bundle = Path.Combine(temp, "bundle-int8");
                await Vlm2VecOnnxExporter.ExportAsync(config, model.state_dict(), int8Bundle, new Vlm2VecExportOptions { TokenizerFolder = tokenizerFolder, ModelId = "mid-random-int8", DType = Vlm2VecExportDType.Int8 });
                var int8Bytes = Directory.GetFiles(int8Bundle).Sum(f => new FileInfo(f).Length);
                BenchmarkContext.Report($"# export (in-memory state dict, int8 projections): {sw.Elapsed.TotalSeconds:F1} s, bundle {int8Bytes / 1048576.0:F0} MiB (the float32 token-embedding table is {config.VocabSize * (long)config.HiddenSize * 4 / 1048576.0:F0} MiB of it)");
                ortInt8 = OnnxVlm2VecEncoder.FromBundle(int8Bundle, new OnnxVlm2VecEncoderOptions { IntraOpThreads = threads, IntraOpSpinning = spinning });
            }

            using var ortInt8Scope = ortInt8;
            using var torchSharp = new TorchSharpVlm2VecEncoder(model, ort.Preprocessor, "mid-random", null, validate: true);

            // --bf16: TorchSharp's own reduced-precision path (bfloat16 weights and activations, same seed) beside the
            // int8 bundle, so that int8 is also compared with the other engine's faster arithmetic, not only with fp32.
            using var modelBf16 = withBf16 && withTorchSharp ? Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = 1, DType = ScalarType.BFloat16 }) : null;
            using var torchSharpBf16 = modelBf16 is null ? null : new TorchSharpVlm2VecEncoder(modelBf16, ort.Preprocessor, "mid-random-bf16", null, validate: true);
            var data = BenchmarkData.Load(context, quick);

            await ParityCheckAsync(ort, torchSharp, data);
            if (ortInt8 is not null)
            {
                await Int8CosineAsync(ort, ortInt8, data);
            }

            var endToEnd = !args.Contains("--variants-only") && !args.Contains("--image-probe");
            BenchmarkContext.Report(string.Empty);
            BenchmarkContext.Report("## end to end (Vlm2VecEmbedder: decode, preprocess, tokenise, collate, encode, pool)");
            BenchmarkContext.Report("workload | batch | items | ORT items/s | TorchSharp items/s | ORT / TorchSharp | ORT time outside session.Run | ORT peak RSS MiB | TorchSharp peak RSS MiB | load average (1 min) after the row" +
                (ortInt8 is null ? string.Empty : " | ORT int8 items/s | int8 / ORT fp32 | int8 / TorchSharp | ORT int8 peak RSS MiB") +
                (torchSharpBf16 is null ? string.Empty : " | TorchSharp bf16 items/s | bf16 / TorchSharp fp32" + (ortInt8 is null ? string.Empty : " | int8 / TorchSharp bf16")));
            BenchmarkContext.Report("---|---|---|---|---|---|---|---|---|---" + (ortInt8 is null ? string.Empty : "|---|---|---|---") + (torchSharpBf16 is null ? string.Empty : ortInt8 is null ? "|---|---" : "|---|---|---"));
            foreach (var (workload, inputs) in endToEnd ? new[] { ("image 448", data.Images), ("text", data.Texts) } : [])
            {
                foreach (var batch in new[] { 1, 8, 32 })
                {
                    var items = inputs.Take(ItemCount(workload, batch, quick)).ToList();
                    var ortRuns = new List<EndToEndResult>();
                    var tsRuns = new List<EndToEndResult>();
                    var int8Runs = new List<EndToEndResult>();
                    var bf16Runs = new List<EndToEndResult>();
                    for (var round = 0; round < rounds; round++)
                    {
                        ortRuns.Add(await EndToEndAsync(ort, ort, items, batch));
                        if (ortInt8 is not null)
                        {
                            int8Runs.Add(await EndToEndAsync(ortInt8, ortInt8, items, batch));
                        }

                        if (withTorchSharp)
                        {
                            tsRuns.Add(await EndToEndAsync(torchSharp, null, items, batch));
                        }

                        if (torchSharpBf16 is not null)
                        {
                            bf16Runs.Add(await EndToEndAsync(torchSharpBf16, null, items, batch));
                        }
                    }

                    var ortRate = Median(ortRuns.Select(r => r.Rate));
                    var tsRate = withTorchSharp ? Median(tsRuns.Select(r => r.Rate)) : double.NaN;
                    var ratio = withTorchSharp ? Median(ortRuns.Zip(tsRuns, (o, t) => o.Rate / t.Rate)) : double.NaN;
                    var outside = Median(ortRuns.Select(r => r.OutsideShare));
                    var int8Columns = ortInt8 is null
                        ? string.Empty
                        : Invariant($" | {Median(int8Runs.Select(r => r.Rate)):F2} | ×{Median(int8Runs.Zip(ortRuns, (i, o) => i.Rate / o.Rate)):F2} | {(withTorchSharp ? Invariant($"×{Median(int8Runs.Zip(tsRuns, (i, t) => i.Rate / t.Rate)):F2}") : "—")} | {int8Runs.Max(r => r.PeakMiB):F0}");
                    var bf16Columns = torchSharpBf16 is null
                        ? string.Empty
                        : Invariant($" | {Median(bf16Runs.Select(r => r.Rate)):F2} | ×{Median(bf16Runs.Zip(tsRuns, (b, t) => b.Rate / t.Rate)):F2}") +
                          (ortInt8 is null ? string.Empty : Invariant($" | ×{Median(int8Runs.Zip(bf16Runs, (i, b) => i.Rate / b.Rate)):F2}"));
                    BenchmarkContext.Report(Invariant(
                        $"{workload} | {batch} | {items.Count} | {ortRate:F2} | {(withTorchSharp ? tsRate.ToString("F2", CultureInfo.InvariantCulture) : "—")} | {(withTorchSharp ? $"×{ratio:F2}" : "—")} | {outside:P1} | {ortRuns.Max(r => r.PeakMiB):F0} | {(withTorchSharp ? tsRuns.Max(r => r.PeakMiB).ToString("F0", CultureInfo.InvariantCulture) : "—")} | {LoadAverage().Split(' ')[0]}{int8Columns}{bf16Columns}"));
                }
            }

            if (args.Contains("--encoder-only"))
            {
                BenchmarkContext.Report(string.Empty);
                BenchmarkContext.Report("## encoder only (pre-collated batches; no preprocessing)");
                BenchmarkContext.Report("workload | batch | ORT items/s | TorchSharp items/s | ORT / TorchSharp");
                BenchmarkContext.Report("---|---|---|---|---");
                foreach (var (workload, inputs) in new[] { ("image 448", data.Images), ("text", data.Texts) })
                {
                    foreach (var batch in new[] { 1, 8, 32 })
                    {
                        var collated = ort.Preprocessor.Collate(inputs.Take(batch).Select(ort.Preprocessor.Prepare).ToList());
                        var o = new List<double>();
                        var t = new List<double>();
                        for (var round = 0; round < rounds; round++)
                        {
                            o.Add(EncoderRate(ort, collated, quick));
                            t.Add(withTorchSharp ? EncoderRate(torchSharp, collated, quick) : double.NaN);
                        }

                        BenchmarkContext.Report(Invariant($"{workload} | {batch} | {Median(o):F2} | {Median(t):F2} | ×{Median(o.Zip(t, (a, b) => a / b)):F2}"));
                    }
                }
            }

            if (args.Contains("--image-probe"))
            {
                // Where an image's time goes at batch 1 and 8 (encoder only): the vision and text session runs of ORT.
                BenchmarkContext.Report(string.Empty);
                BenchmarkContext.Report("## image probe (pre-collated 448x448 images; ms per image)");
                BenchmarkContext.Report("engine | batch | total ms/image | vision run ms/image | text run ms/image | minor page faults per call");
                BenchmarkContext.Report("---|---|---|---|---|---");
                foreach (var batch in new[] { 1, 8 })
                {
                    var collated = ort.Preprocessor.Collate(data.Images.Take(batch).Select(ort.Preprocessor.Prepare).ToList());
                    foreach (var (name, encoder) in new (string, IVlm2VecEncoder?)[] { ("ORT fp32", ort), ("ORT int8", ortInt8), ("TorchSharp fp32", withTorchSharp ? torchSharp : null) })
                    {
                        if (encoder is null)
                        {
                            continue;
                        }

                        await encoder.EncodeAsync(collated);
                        (encoder as OnnxVlm2VecEncoder)?.Statistics.Reset();
                        var calls = Math.Max(2, 16 / batch);
                        var faults = MinorFaults();
                        var clock = Stopwatch.StartNew();
                        for (var i = 0; i < calls; i++)
                        {
                            await encoder.EncodeAsync(collated);
                        }

                        var images = (double)calls * batch;
                        var stats = (encoder as OnnxVlm2VecEncoder)?.Statistics;
                        BenchmarkContext.Report(Invariant(
                            $"{name} | {batch} | {clock.Elapsed.TotalMilliseconds / images:F1} | {(stats is null ? "—" : (stats.VisionTime.TotalMilliseconds / images).ToString("F1", CultureInfo.InvariantCulture))} | {(stats is null ? "—" : (stats.TextTime.TotalMilliseconds / images).ToString("F1", CultureInfo.InvariantCulture))} | {(MinorFaults() - faults) / calls}"));
                    }
                }
            }

            if (args.Contains("--gemm"))
            {
                GemmCeiling(threads, quick);
            }

            if (args.Contains("--variants") || args.Contains("--variants-only"))
            {
                await VariantsAsync(config, model, tokenizerFolder, temp, data, threads, rounds, quick);
            }

            BenchmarkContext.Report($"# load average at the end: {LoadAverage()}");
        }
        finally
        {
            try
            {
                Directory.Delete(temp, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<EndToEndResult> EndToEndAsync(IVlm2VecEncoder encoder, OnnxVlm2VecEncoder? ort, List<MultimodalInput> items, int batch)
    {
        var embedder = new Vlm2VecEmbedder(encoder, new EmbedderOptions
        {
            MaxBatchSize = batch,
            SortWindow = Math.Max(64, batch),
            MaxBatchTokens = 1 << 20,
            MaxBatchPatches = 1 << 20,
        });
        await embedder.EmbedAsync(items.Take(batch).ToList());
        GC.Collect();
        BenchmarkContext.ResetPeakWorkingSet();
        ort?.Statistics.Reset();
        var sw = Stopwatch.StartNew();
        var vectors = await embedder.EmbedAsync(items);
        var elapsed = sw.Elapsed.TotalSeconds;
        if (vectors.Length != items.Count)
        {
            throw new InvalidOperationException("The embedder returned the wrong number of vectors.");
        }

        var outside = ort is null ? double.NaN : Math.Max(0, 1 - (ort.Statistics.SessionTime.TotalSeconds / elapsed));
        return new EndToEndResult(items.Count / elapsed, outside, BenchmarkContext.PeakWorkingSetMiB());
    }

    /// <summary>Minor page faults of this process so far (Linux /proc/self/stat field 10; 0 elsewhere).</summary>
    private static long MinorFaults()
    {
        if (!File.Exists("/proc/self/stat"))
        {
            return 0;
        }

        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);
    }

    private static double EncoderRate(IVlm2VecEncoder encoder, CollatedBatch batch, bool quick) =>
        BenchmarkContext.MeasureRate(() => encoder.EncodeAsync(batch).GetAwaiter().GetResult(), quick ? 1 : 2, 2) * batch.BatchSize;

    /// <summary>The same batch through both engines: they must agree (fp32) before their speed means anything.</summary>
    private static async Task ParityCheckAsync(OnnxVlm2VecEncoder ort, TorchSharpVlm2VecEncoder torchSharp, BenchmarkData data)
    {
        var inputs = data.Images.Take(2).Concat(data.Texts.Take(6)).ToList();
        var batch = ort.Preprocessor.Collate(inputs.Select(ort.Preprocessor.Prepare).ToList());
        var a = await ort.EncodeAsync(batch);
        var b = await torchSharp.EncodeAsync(batch);
        double worst = 0;
        for (var i = 0; i < a.Length; i++)
        {
            for (var j = 0; j < a[i].Length; j++)
            {
                worst = Math.Max(worst, Math.Abs(a[i][j] - b[i][j]));
            }
        }

        BenchmarkContext.Report(Invariant($"# parity on this config (2 images + 6 texts, {batch.SequenceLength} tokens): max |ORT − TorchSharp| = {worst:E2}"));
        if (worst > 1e-4)
        {
            throw new InvalidOperationException($"ORT and TorchSharp disagree by {worst:E2}; the timings would compare different computations.");
        }
    }

    /// <summary>The int8 bundle's embeddings against the float32 bundle's on the benchmark's inputs (images and texts in
    /// batches of 8): minimum and mean cosine.</summary>
    private static async Task Int8CosineAsync(OnnxVlm2VecEncoder fp32, OnnxVlm2VecEncoder int8, BenchmarkData data)
    {
        foreach (var (workload, inputs) in new[] { ("images", data.Images.Take(16).ToList()), ("texts", data.Texts.Take(64).ToList()) })
        {
            var cosines = new List<double>();
            foreach (var chunk in inputs.Chunk(8))
            {
                var batch = fp32.Preprocessor.Collate(chunk.Select(fp32.Preprocessor.Prepare).ToList());
                var a = await fp32.EncodeAsync(batch);
                var b = await int8.EncodeAsync(batch);
                for (var i = 0; i < a.Length; i++)
                {
                    // Both are L2-normalised: the cosine is the dot product.
                    cosines.Add(System.Numerics.Tensors.TensorPrimitives.Dot(a[i], b[i]));
                }
            }

            BenchmarkContext.Report(Invariant($"# int8 vs float32 bundle, {cosines.Count} {workload}: cosine min {cosines.Min():F5}, mean {cosines.Average():F5}"));
        }
    }

    /// <summary>ORT graph and session variants against the default, encoder only, interleaved: decoder attention kernel,
    /// the pooled last layer, fused skip norms, the vision patch budget, thread spinning.</summary>
    private static async Task VariantsAsync(Qwen2VlConfig config, Qwen2VlForConditionalGeneration model, string tokenizerFolder, string temp, BenchmarkData data, int threads, int rounds, bool quick)
    {
        BenchmarkContext.Report(string.Empty);
        BenchmarkContext.Report("## ORT variants vs the default (encoder only; batches of 8 texts and 8 images; interleaved, median of per-round ratios)");
        BenchmarkContext.Report("variant | text items/s | vs default | image items/s | vs default");
        BenchmarkContext.Report("---|---|---|---|---");
        var fp32 = Vlm2VecOnnxExporter.DefaultGraphOptions(Vlm2VecExportDType.Float32);
        var baseOptions = new OnnxVlm2VecEncoderOptions { IntraOpThreads = threads };
        var variants = new (string Name, Qwen2VlGraphOptions? Graph, OnnxVlm2VecEncoderOptions Session)[]
        {
            ("decoder MatMul/Softmax attention", fp32 with { DecoderAttention = AttentionFormulation.MatMulSoftmax }, baseOptions),
            ("decoder GroupQueryAttention", fp32 with { DecoderAttention = AttentionFormulation.GroupQueryAttention }, baseOptions),
            ("full last layer", fp32 with { PoolBeforeLastLayer = false }, baseOptions),
            ("fused skip norms (decoder and vision)", fp32 with { FusedDecoderSkipNorms = true, FusedVisionSkipNorms = true }, baseOptions),
            ("vision MatMul/Softmax attention", fp32 with { VisionAttention = AttentionFormulation.MatMulSoftmax }, baseOptions),
            ("MatMul/Softmax attention in both towers", fp32 with { VisionAttention = AttentionFormulation.MatMulSoftmax, DecoderAttention = AttentionFormulation.MatMulSoftmax }, baseOptions),
            ("vision runs of 1 image (1024 patches)", null, new OnnxVlm2VecEncoderOptions { IntraOpThreads = threads, MaxPatchesPerVisionRun = 1024 }),
            ("vision runs of 4 images (4096 patches)", null, new OnnxVlm2VecEncoderOptions { IntraOpThreads = threads, MaxPatchesPerVisionRun = 4096 }),
            ("vision runs of 8 images (8192 patches)", null, new OnnxVlm2VecEncoderOptions { IntraOpThreads = threads, MaxPatchesPerVisionRun = 8192 }),
            ("thread spinning on (ORT's default)", null, new OnnxVlm2VecEncoderOptions { IntraOpThreads = threads, IntraOpSpinning = true }),
        };
        var defaultFolder = Path.Combine(temp, "variant-default");
        await Vlm2VecOnnxExporter.ExportAsync(config, model.state_dict(), defaultFolder, new Vlm2VecExportOptions { TokenizerFolder = tokenizerFolder, GraphOptions = fp32 });
        using var reference = OnnxVlm2VecEncoder.FromBundle(defaultFolder, baseOptions);
        var text = reference.Preprocessor.Collate(data.Texts.Take(8).Select(reference.Preprocessor.Prepare).ToList());
        var images = reference.Preprocessor.Collate(data.Images.Take(8).Select(reference.Preprocessor.Prepare).ToList());
        foreach (var (name, graph, session) in variants)
        {
            var folder = defaultFolder;
            if (graph is not null)
            {
                folder = Path.Combine(temp, "variant-" + Guid.NewGuid().ToString("N"));
                await Vlm2VecOnnxExporter.ExportAsync(config, model.state_dict(), folder, new Vlm2VecExportOptions { TokenizerFolder = tokenizerFolder, GraphOptions = graph });
            }

            using (var encoder = OnnxVlm2VecEncoder.FromBundle(folder, session))
            {
                var textRates = new List<(double Variant, double Default)>();
                var imageRates = new List<(double Variant, double Default)>();
                for (var round = 0; round < rounds; round++)
                {
                    textRates.Add((EncoderRate(encoder, text, quick), EncoderRate(reference, text, quick)));
                    imageRates.Add((EncoderRate(encoder, images, quick), EncoderRate(reference, images, quick)));
                }

                BenchmarkContext.Report(Invariant(
                    $"{name} | {Median(textRates.Select(r => r.Variant)):F1} | ×{Median(textRates.Select(r => r.Variant / r.Default)):F2} | {Median(imageRates.Select(r => r.Variant)):F2} | ×{Median(imageRates.Select(r => r.Variant / r.Default)):F2}"));
            }

            if (folder != defaultFolder)
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>
    /// The GEMM ceiling both engines share: the model's largest MatMul shapes, alone, on ORT (MLAS, prepacked constant
    /// weights) and on libtorch (<c>torch.mm</c>), interleaved. More than 85 % of either engine's time is in these.
    /// </summary>
    private static void GemmCeiling(int threads, bool quick)
    {
        BenchmarkContext.Report(string.Empty);
        BenchmarkContext.Report("## fp32 GEMM alone (the model's shapes; GFLOP/s, median of interleaved rounds)");
        BenchmarkContext.Report("shape (M × K × N) | where | ORT MatMul | torch.mm | ORT / torch");
        BenchmarkContext.Report("---|---|---|---|---");
        var shapes = new (long M, long K, long N, string Where)[]
        {
            (1024, 256, 1024, "vision fc1, 1 image"),
            (1024, 256, 768, "vision qkv, 1 image"),
            (264, 512, 5632, "decoder gate+up, 1 image row"),
            (264, 2816, 512, "decoder down, 1 image row"),
            (25, 512, 5632, "decoder gate+up, 1 text row"),
            (200, 512, 5632, "decoder gate+up, 8 text rows"),
        };
        foreach (var (m, k, n, where) in shapes)
        {
            var g = new OnnxGraphBuilder();
            var a = g.AddInput("a", Onnx.TensorProto.Types.DataType.Float, [m, k]);
            var random = new Random(3);
            var weights = new float[k * n];
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)(random.NextDouble() - 0.5);
            }

            var input = new float[m * k];
            for (var i = 0; i < input.Length; i++)
            {
                input[i] = (float)(random.NextDouble() - 0.5);
            }

            g.AddOutput(g.MatMul(a, g.AddInitializer("b", weights, [k, n])), Onnx.TensorProto.Types.DataType.Float, [m, n], "c");
            using var sessionOptions = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = threads };
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(g.ToBytes(), sessionOptions);
            using var ortInput = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(input, [m, k]);
            var output = new float[m * n];
            using var ortOutput = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(output, [m, n]);
            using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
            using var torchA = torch.tensor(input, [m, k]);
            using var torchB = torch.tensor(weights, [k, n]);
            var flop = 2.0 * m * k * n;
            var ortRates = new List<double>();
            var torchRates = new List<double>();
            for (var round = 0; round < 3; round++)
            {
                ortRates.Add(flop * BenchmarkContext.MeasureRate(() => session.Run(runOptions, ["a"], [ortInput], ["c"], [ortOutput]), quick ? 0.3 : 1, 5) / 1e9);
                torchRates.Add(flop * BenchmarkContext.MeasureRate(() =>
                {
                    using var inference = torch.inference_mode();
                    using var c = torch.mm(torchA, torchB);
                }, quick ? 0.3 : 1, 5) / 1e9);
            }

            BenchmarkContext.Report(Invariant($"{m} × {k} × {n} | {where} | {Median(ortRates):F1} | {Median(torchRates):F1} | ×{Median(ortRates.Zip(torchRates, (o, t) => o / t)):F2}"));
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static int ItemCount(string workload, int batch, bool quick) => workload.StartsWith("image", StringComparison.Ordinal)
        ? (quick ? Math.Max(4, batch) : Math.Max(8, 2 * batch))
        : (quick ? Math.Max(32, 2 * batch) : Math.Max(128, 4 * batch));

    private static int? ArgValue(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The mid-size config: the Qwen2-VL-2B layout scaled down, with the real vocabulary and special ids.</summary>
    private const string MidConfigJson = """
        {
          "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl",
          "vocab_size": 151936, "hidden_size": 512, "intermediate_size": 2816, "num_hidden_layers": 8,
          "num_attention_heads": 8, "num_key_value_heads": 2, "hidden_act": "silu", "rms_norm_eps": 1e-06,
          "rope_theta": 1000000.0, "rope_scaling": {"type": "mrope", "mrope_section": [8, 12, 12]},
          "max_position_embeddings": 32768, "tie_word_embeddings": true, "bos_token_id": 151643, "eos_token_id": 151645,
          "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654,
          "image_token_id": 151655, "video_token_id": 151656, "torch_dtype": "float32",
          "vision_config": {"depth": 8, "embed_dim": 256, "hidden_size": 512, "num_heads": 4, "mlp_ratio": 4, "in_chans": 3,
            "spatial_patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}
        }
        """;

    private sealed record EndToEndResult(double Rate, double OutsideShare, double PeakMiB);

    /// <summary>Benchmark inputs: COCO captions as MSCOCO_t2i queries; COCO photos resized to 448×448 JPEGs as MSCOCO_i2t
    /// queries (decoded by the embedder, like uploaded files).</summary>
    private sealed record BenchmarkData(List<MultimodalInput> Texts, List<MultimodalInput> Images)
    {
        public static BenchmarkData Load(BenchmarkContext context, bool quick)
        {
            var folder = context.DataPath("captions", "coco-mini");
            var rows = File.ReadLines(Path.Combine(folder, "captions.jsonl")).Select(line => JsonDocument.Parse(line).RootElement).ToList();
            var t2i = MmebCatalog.Get("MSCOCO_t2i");
            var i2t = MmebCatalog.Get("MSCOCO_i2t");
            var texts = rows.SelectMany(r => r.GetProperty("captions").EnumerateArray().Select(c => c.GetString()!)).Take(256)
                .Select(caption => t2i.CreateQuery(caption)).ToList();
            var images = rows.Take(quick ? 32 : 64).Select(r =>
            {
                using var image = SixLabors.ImageSharp.Image.Load<Rgb24>(Path.Combine(folder, r.GetProperty("image").GetString()!));
                image.Mutate(x => x.Resize(ImageSide, ImageSide));
                using var stream = new MemoryStream();
                image.SaveAsJpeg(stream, new JpegEncoder { Quality = 90 });
                return i2t.CreateQuery(image: ImageInput.FromBytes(stream.ToArray(), r.GetProperty("image").GetString()));
            }).ToList();
            return new BenchmarkData(texts, images);
        }
    }
}
