using System.Diagnostics;
using System.Globalization;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Modeling;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Training;
using static TorchSharp.torch;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Contrastive training throughput and memory: pairs per second and peak RSS of <see cref="ContrastiveTrainer"/> steps
/// (DoRA r 16 on a small random Qwen2-VL: vision 2 × 128, decoder 2 × 256; queries are Caltech-101 images at a 224×224
/// pixel budget (about 256 patches, 64 tokens) with the classification instruction, targets the class names;
/// preprocessing, AdamW and clipping included) for total batches 8, 64 and 256, with GradCache at chunk 8/8 and with the
/// plain path. Every configuration runs in a fresh child process so that its peak RSS is its own (freed native memory stays
/// with the allocator). Arguments: <c>[--steps N]</c> (measured steps after one warm-up, default 3),
/// <c>[--batches 8,64,256]</c>, <c>[--paths gradcache,plain]</c>, <c>[--threads N]</c> (default: the trainer's default), <c>[--keep-images]</c> (GradCache keeps the batch's processed images
/// instead of processing them again per chunk), <c>[--overlap]</c> (prepare inputs beside the model), <c>[--strict]</c> (GradCache
/// re-forwards every chunk: no kept chunk graphs), <c>[--recompute-features]</c> (the second pass prepares the images and
/// runs the frozen vision tower again instead of reusing the first pass's features), <c>[--vision DEPTHxWIDTH]</c> (the
/// vision tower's depth and embedding width, default 2x128).
/// </summary>
internal sealed class TrainingBenchmark : IBenchmark
{
    private const int TextTokens = 10;
    private const int TargetTokens = 12;
    private const int PatchRow = 3 * 2 * 14 * 14;

    public string Name => "training";

    public string Description => "Contrastive training step: pairs/s and peak RSS, GradCache (chunk 8) vs plain, batches 8/64/256";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        if (args.Length > 0 && args[0] == "--forward-probe")
        {
            ForwardProbe(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), args);
            return;
        }

        if (args.Length > 0 && args[0] == "--one")
        {
            RunOne(
                int.Parse(args[1], CultureInfo.InvariantCulture), args[2] == "gradcache", int.Parse(args[3], CultureInfo.InvariantCulture),
                args[4] == "default" ? null : int.Parse(args[4], CultureInfo.InvariantCulture), args[5], args[6], args.Contains("--keep-images"), args.Contains("--overlap"), args.Contains("--strict"), !args.Contains("--recompute-features"));
            return;
        }

        var steps = FashionMnistExperiment.Arg(args, "--steps") ?? "3";
        var threads = FashionMnistExperiment.Arg(args, "--threads") ?? "default";
        var batches = (FashionMnistExperiment.Arg(args, "--batches") ?? "8,64,256").Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToList();
        var keepImages = args.Contains("--keep-images");
        var overlap = args.Contains("--overlap");
        var strict = args.Contains("--strict");
        var reuseFeatures = !args.Contains("--recompute-features");
        var vision = VisionArg(args);
        var paths = (FashionMnistExperiment.Arg(args, "--paths") ?? "gradcache,plain").Split(',');
        BenchmarkContext.Report($"# ContrastiveTrainer, DoRA r16 on a random Qwen2-VL (vision {vision.Depth}x{vision.Width}, decoder 2x256, Qwen2-VL tokenizer), fp32, libtorch threads: {(threads == "default" ? $"trainer default ({ContrastiveTrainer.TorchThreadsFor(new ContrastiveTrainingOptions { OutputFolder = "-", OverlapPreprocessing = overlap })} of {Environment.ProcessorCount} cores, the rest prepares images)" : threads)}; query = Caltech-101 image at a 224x224 pixel budget (~64 tokens) + classification instruction, target = class name; preprocessing, AdamW and clipping included; {steps} measured steps after 1 warm-up; one child process per row");
        BenchmarkContext.Report($"# GradCache {(keepImages ? "keeps the batch's processed images" : "processes each chunk's images again when it runs (default)")}; input preparation {(overlap ? "beside the model (--overlap)" : "between model calls (default)")}; second pass {(strict ? "re-forwards every chunk (--strict)" : "keeps the last chunk graph of each side (default)")}{(reuseFeatures ? ", reuses the frozen vision tower's features (default)" : ", prepares images and runs the vision tower again (--recompute-features)")}");
        BenchmarkContext.Report($"# load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
        BenchmarkContext.Report("path | batch | pairs/s | s/step | RSS before steps MiB | peak RSS MiB | peak - before MiB");
        var results = new Dictionary<(string, int), (double Rate, double Peak, double Before)>();
        var baseFolder = CreateBaseModel(context, vision);
        try
        {
        foreach (var batch in batches)
        {
            foreach (var path in paths)
            {
                var line = await RunChildAsync(batch, path, steps, threads, baseFolder, context.DataPath(), keepImages, overlap, strict, reuseFeatures, vision);
                BenchmarkContext.Report(line);
                var cells = line.Split('|', StringSplitOptions.TrimEntries);
                if (cells.Length == 7 && double.TryParse(cells[2], CultureInfo.InvariantCulture, out var rate))
                {
                    results[(path, batch)] = (rate, double.Parse(cells[5], CultureInfo.InvariantCulture), double.Parse(cells[4], CultureInfo.InvariantCulture));
                }
            }
        }
        }
        finally
        {
            Directory.Delete(baseFolder, recursive: true);
        }

        if (results.TryGetValue(("gradcache", batches.Min()), out var small) && results.TryGetValue(("gradcache", batches.Max()), out var large))
        {
            BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture,
                $"GradCache peak RSS, batch {batches.Max()} / batch {batches.Min()}: {large.Peak / small.Peak:F2}x (goal <= 1.3x); above the pre-step RSS: {(large.Peak - large.Before) / Math.Max(1, small.Peak - small.Before):F2}x"));
        }

        foreach (var batch in batches)
        {
            if (results.TryGetValue(("gradcache", batch), out var g) && results.TryGetValue(("plain", batch), out var p))
            {
                BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture, $"batch {batch}: GradCache time / plain time = {p.Rate / g.Rate:F2}x (goal <= 1.4x)"));
            }
        }

        BenchmarkContext.Report($"# load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static async Task<string> RunChildAsync(
        int batch, string path, string steps, string threads, string baseFolder, string dataRoot, bool keepImages, bool overlap, bool strict, bool reuseFeatures, (int Depth, int Width) vision)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (!Environment.ProcessPath!.EndsWith("Vlm2Vec.Benchmarks", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(TrainingBenchmark).Assembly.Location);
        }

        foreach (var a in new[] { "training", "--one", batch.ToString(CultureInfo.InvariantCulture), path, steps, threads, baseFolder, dataRoot })
        {
            start.ArgumentList.Add(a);
        }

        if (keepImages)
        {
            start.ArgumentList.Add("--keep-images");
        }

        if (overlap)
        {
            start.ArgumentList.Add("--overlap");
        }

        if (strict)
        {
            start.ArgumentList.Add("--strict");
        }

        if (!reuseFeatures)
        {
            start.ArgumentList.Add("--recompute-features");
        }

        start.ArgumentList.Add("--vision");
        start.ArgumentList.Add($"{vision.Depth}x{vision.Width}");

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith(path, StringComparison.Ordinal));
        foreach (var probeLine in error.Split('\n').Where(l => l.StartsWith("  at peak", StringComparison.Ordinal)))
        {
            Console.Error.WriteLine($"  {path} {batch}:{probeLine}");
        }

        var note = error.Split('\n').LastOrDefault(l => l.StartsWith("managed", StringComparison.Ordinal));
        if (note is not null)
        {
            Console.Error.WriteLine($"  {path} {batch}: {note}");
        }

        return process.ExitCode == 0 && line is not null ? line.Trim() : $"{path} | {batch} | failed (exit {process.ExitCode}): {error.Split('\n').FirstOrDefault(l => l.Length > 0)}";
    }

    /// <summary>
    /// One configuration in this process: the real trainer (DoRA r 16, the serving preprocessing, prefetching, AdamW,
    /// clipping) on Caltech-101 images of shared data at a 224×224 pixel budget, timed from the end of the first
    /// (warm-up) step to the end of the last.
    /// </summary>
    private static void RunOne(
        int batch, bool gradCache, int steps, int? threads, string baseFolder, string dataRoot, bool keepImages, bool overlap, bool strict, bool reuseFeatures)
    {
        TorchSharpRuntime.EnsureLoaded();
        var output = Path.Combine(Path.GetTempPath(), "vlm2vec-train-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new ContrastiveTrainingOptions
            {
                OutputFolder = output,
                BaseModelFolder = baseFolder,
                Mode = FineTuningMode.Lora,
                BatchSize = batch,
                QueryChunkSize = gradCache ? 8 : null,
                TargetChunkSize = gradCache ? 8 : null,
                MaxSteps = steps + 1,
                WarmupSteps = 0,
                LearningRate = 1e-4,
                SaveEverySteps = 0,
                Threads = threads,
                KeepBatchImages = keepImages,
                OverlapPreprocessing = overlap,
                GradCacheKeepLastChunkGraphs = !strict,
                GradCacheReuseVisionFeatures = reuseFeatures,
                Preprocessing = new PreprocessorOptions { ImageProcessor = new Qwen2VlImageProcessorOptions { MinPixels = 224 * 224, MaxPixels = 224 * 224 } },
            };
            var examples = Examples(dataRoot, batch * (steps + 2));
            using var trainer = ContrastiveTrainer.Create(options);
            GC.Collect();
            var before = ResidentMiB();
            using var probe = new PeakMemoryProbe();
            var clock = new Stopwatch();
            var result = trainer.Train(examples, new StepClock(p =>
            {
                if (p.Phase == TrainingPhase.Step && p.Step == 1)
                {
                    clock.Start();
                }
                else if (p.Phase == TrainingPhase.Step && p.Step == steps + 1)
                {
                    clock.Stop();
                }
            }));
            probe.Report();
            var seconds = clock.Elapsed.TotalSeconds / steps;
            var gc = GC.GetGCMemoryInfo();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"managed heap {gc.HeapSizeBytes >> 20} MiB, committed {gc.TotalCommittedBytes >> 20} MiB, allocated {GC.GetTotalAllocatedBytes() >> 20} MiB, GCs gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} (pauses {GC.GetTotalPauseDuration().TotalSeconds:F2} s); final loss {result.FinalLoss:F3}"));
            BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture,
                $"{(gradCache ? "gradcache" : "plain")} | {batch} | {batch / seconds:F1} | {seconds:F2} | {before:F0} | {BenchmarkContext.PeakWorkingSetMiB():F0} | {BenchmarkContext.PeakWorkingSetMiB() - before:F0}"));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>Caltech-101 image → class-name pairs, cycling over the 1 010 images.</summary>
    private static List<ContrastiveExample> Examples(string dataRoot, int count)
    {
        var files = Directory.GetDirectories(Path.Combine(dataRoot, "classification", "caltech101-test10", "images"))
            .Order(StringComparer.Ordinal)
            .SelectMany(folder => Directory.GetFiles(folder, "*.jpg").Order(StringComparer.Ordinal).Select(file => (file, label: Path.GetFileName(folder).Replace('_', ' '))))
            .ToList();
        return [.. Enumerable.Range(0, count).Select(i => files[i % files.Count]).Select(f => new ContrastiveExample
        {
            Query = new MultimodalInput { Prompt = FashionMnistExperiment.QueryPrompt, Images = [ImageInput.FromFile(f.file)] },
            Positive = new MultimodalInput { Prompt = f.label, Role = EmbeddingRole.Target },
        })];
    }

    /// <summary>A synchronous progress callback.</summary>
    private sealed class StepClock(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }

    /// <summary>No-grad forward time of the query side as one batch vs chunks of 8, interleaved (diagnostics).</summary>
    private static void ForwardProbe(int batch, int rounds, string[] args)
    {
        TorchSharpRuntime.EnsureLoaded();
        var config = Qwen2VlConfig.Parse(ConfigJson(VisionArg(args)), "training-benchmark");
        using var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = 1 });
        LoraInjector.Inject(model, LoraConfig.Vlm2VecV2, new LoraInjectOptions { Seed = 2 });
        model.train();
        var collator = new BatchCollator(BatchCollatorOptions.FromConfig(config, padTokenId: 0));
        var random = new Random(3);
        var queries = Enumerable.Range(0, batch).Select(_ => Query(random, config)).ToList();
        var targets = Enumerable.Range(0, batch).Select(_ => Target(random)).ToList();
        double whole = 0, chunked = 0, wholeT = 0, chunkedT = 0;
        for (var r = 0; r < rounds; r++)
        {
            using var noGrad = no_grad();
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                ChunkEncoder.Encode(model, collator, queries);
            }

            whole += clock.Elapsed.TotalSeconds;
            clock.Restart();
            using (var scope = NewDisposeScope())
            {
                for (var s = 0; s < batch; s += 8)
                {
                    ChunkEncoder.Encode(model, collator, queries.Skip(s).Take(8).ToList());
                }
            }

            chunked += clock.Elapsed.TotalSeconds;
            clock.Restart();
            using (var scope = NewDisposeScope())
            {
                ChunkEncoder.Encode(model, collator, targets);
            }

            wholeT += clock.Elapsed.TotalSeconds;
            clock.Restart();
            using (var scope = NewDisposeScope())
            {
                for (var s = 0; s < batch; s += 8)
                {
                    ChunkEncoder.Encode(model, collator, targets.Skip(s).Take(8).ToList());
                }
            }

            chunkedT += clock.Elapsed.TotalSeconds;
        }

        double vision = 0, decoder = 0;
        var chunk = collator.Collate([.. queries.Take(8)]);
        for (var r = 0; r < rounds * 4; r++)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var pixels = tensor(chunk.PixelValues, [chunk.TotalPatches, chunk.PatchRowLength]);
            var grid = tensor(chunk.ImageGridThw, [chunk.ImageCount, 3]);
            var clock = Stopwatch.StartNew();
            var features = model.GetImageFeatures(pixels, grid);
            vision += clock.Elapsed.TotalSeconds;
            clock.Restart();
            ChunkEncoder.Encode(model, chunk, features, out _, captureImageFeatures: false);
            decoder += clock.Elapsed.TotalSeconds;
        }

        BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture,
            $"no-grad chunk of 8 queries (training mode): vision tower {vision / rounds / 4 * 1000:F1} ms, the rest given its features {decoder / rounds / 4 * 1000:F1} ms"));
        BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture,
            $"no-grad forward of {batch}: queries whole {whole / rounds:F3} s, chunks of 8 {chunked / rounds:F3} s; targets whole {wholeT / rounds:F3} s, chunks of 8 {chunkedT / rounds:F3} s"));
    }

    private static PreparedInput Query(Random random, Qwen2VlConfig config)
    {
        var pixels = new float[256 * PatchRow];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (float)((random.NextDouble() * 4) - 2);
        }

        var ids = new int[64 + TextTokens];
        Array.Fill(ids, config.ImageTokenId, 0, 64);
        for (var j = 64; j < ids.Length; j++)
        {
            ids[j] = 10 + random.Next(4000);
        }

        return new PreparedInput(ids, [new ProcessedImage(pixels, 1, 16, 16, PatchRow)], "query");
    }

    private static PreparedInput Target(Random random)
    {
        var ids = new int[TargetTokens - random.Next(4)];
        for (var j = 0; j < ids.Length; j++)
        {
            ids[j] = 10 + random.Next(4000);
        }

        return new PreparedInput(ids, [], "target");
    }

    private static double ResidentMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return 0;
    }

    /// <summary><c>--vision DEPTHxWIDTH</c> (default 2x128).</summary>
    private static (int Depth, int Width) VisionArg(string[] args)
    {
        var value = FashionMnistExperiment.Arg(args, "--vision") ?? "2x128";
        var parts = value.Split('x');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static string ConfigJson((int Depth, int Width) vision) =>
        $$"""
        {
          "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl",
          "vocab_size": 151936, "hidden_size": 256, "intermediate_size": 1024,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
          "hidden_act": "silu", "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
          "rope_scaling": {"type": "mrope", "mrope_section": [8, 12, 12]},
          "tie_word_embeddings": true, "bos_token_id": 151643, "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
          "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656,
          "vision_config": {"depth": {{vision.Depth}}, "embed_dim": {{vision.Width}}, "hidden_size": 256, "num_heads": 4,
            "mlp_ratio": 4, "in_chans": 3, "spatial_patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}
        }
        """;

    /// <summary>A random base model folder with the Qwen2-VL tokenizer and processor files (what the trainer loads).</summary>
    private static string CreateBaseModel(BenchmarkContext context, (int Depth, int Width) vision)
    {
        TorchSharpRuntime.EnsureLoaded();
        var folder = Path.Combine(Path.GetTempPath(), "vlm2vec-train-bench-base-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        using (var model = Qwen2VlForConditionalGeneration.CreateRandom(Qwen2VlConfig.Parse(ConfigJson(vision), "training-benchmark"), new Qwen2VlRandomInitOptions { Seed = 1 }))
        {
            model.SavePretrained(folder);
        }

        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json" })
        {
            File.Copy(context.DataPath("tokenizer", "qwen2-vl", name), Path.Combine(folder, name));
        }

        return folder;
    }

    /// <summary>
    /// Samples the RSS every 5 ms and, at each new peak, what it is made of: glibc's heap (bytes in use and bytes freed but
    /// kept by the allocator), mmapped blocks, and the managed heap. Tells live memory from allocator retention.
    /// </summary>
    private sealed class PeakMemoryProbe : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private double _max;
        private double _maxInUse;
        private double _maxHeap;
        private string _atMax = "no sample";

        public PeakMemoryProbe()
        {
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    var rss = ResidentMiBWithoutAllocating();
                    SampleNativeHeap();
                    if (rss > _max + 4)
                    {
                        _max = rss;
                        _atMax = string.Create(CultureInfo.InvariantCulture,
                            $"rss {rss:F0} MiB = {NativeHeap()}; managed heap {GC.GetTotalMemory(false) >> 20} MiB (committed {GC.GetGCMemoryInfo().TotalCommittedBytes >> 20})");
                    }

                    Thread.Sleep(5);
                }
            }) { IsBackground = true, Name = "peak memory probe" };
            _thread.Start();
        }

        // The sampler must not allocate between peaks: an allocation on this thread can start a garbage collection while
        // the training thread is inside a libtorch call, and TorchSharp 0.107 lets the finalizer free the implicit Scalars
        // of such calls mid-call ("Unknown scalar type", dotnet/TorchSharp#1434), which the benchmark then reports as a
        // crash of the trainer.
        private readonly byte[] _statm = new byte[128];
        private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _statmHandle = File.OpenHandle("/proc/self/statm");

        private double ResidentMiBWithoutAllocating()
        {
            var length = RandomAccess.Read(_statmHandle, _statm, 0);
            long value = 0;
            var field = 0;
            for (var i = 0; i < length && field < 2; i++)
            {
                if (_statm[i] == (byte)' ')
                {
                    field++;
                }
                else if (field == 1)
                {
                    value = (value * 10) + (_statm[i] - (byte)'0');
                }
            }

            return value * (double)Environment.SystemPageSize / 1048576.0;
        }

        public void Report() => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  at peak: {_atMax}; highest glibc heap {_maxHeap:F0} MiB, highest in use {_maxInUse:F0} MiB"));

        private void SampleNativeHeap()
        {
            try
            {
                var m = mallinfo2();
                _maxHeap = Math.Max(_maxHeap, (ulong)m.Arena / 1048576.0);
                _maxInUse = Math.Max(_maxInUse, (ulong)m.Uordblks / 1048576.0);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
            }
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
            _statmHandle.Dispose();
        }

        private static string NativeHeap()
        {
            try
            {
                var m = mallinfo2();
                return $"glibc heap {(ulong)m.Arena >> 20} MiB (in use {(ulong)m.Uordblks >> 20}, freed but kept {(ulong)m.Fordblks >> 20}) + mmapped {(ulong)m.Hblkhd >> 20} MiB";
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return "native heap unknown (no glibc mallinfo2)";
            }
        }

        [System.Runtime.InteropServices.DllImport("libc")]
        private static extern MallInfo2 mallinfo2();

        // glibc's struct mallinfo2 (malloc.h), all size_t.
        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
        private struct MallInfo2
        {
            public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
        }
    }
}
