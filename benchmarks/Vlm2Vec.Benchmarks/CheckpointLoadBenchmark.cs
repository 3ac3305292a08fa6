using System.Diagnostics;
using System.Globalization;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Checkpoints;
using Vlm2Vec.TorchSharp.Peft;
using static TorchSharp.torch;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Checkpoint IO and adapter merging: a synthetic bf16 checkpoint of Qwen2-VL-2B-like tensors (1536 × 8960 MLP weights)
/// sharded by <see cref="CheckpointWriter"/>, loaded with <see cref="CheckpointFolder.LoadStateDict"/> (plain and with
/// float32 conversion) against TorchSharp.PyBridge's <c>Safetensors.LoadStateDict</c> per shard, with throughput and peak
/// RSS above the baseline; then the DoRA merge of one 8960 × 1536 weight (r 8). Args: [size MiB, default 1024]
/// [which: ours | pybridge | fp32 | merge | all, default all]. Run one loader per process for comparable peak-RSS
/// figures: freed native memory stays with the allocator, so a second loader in the same process reuses it.
/// </summary>
internal sealed class CheckpointLoadBenchmark : IBenchmark
{
    public string Name => "checkpoint-load";

    public string Description => "Sharded safetensors load (ours vs PyBridge), fp32 conversion, DoRA merge of a 2B-sized MLP weight";

    public Task RunAsync(BenchmarkContext context, string[] args)
    {
        TorchSharpRuntime.EnsureLoaded();
        var sizeMiB = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1024;
        var which = args.Length > 1 ? args[1] : "all";
        bool Runs(string mode) => which == "all" || which == mode;
        var folder = Path.Combine(Path.GetTempPath(), "vlm2vec-ckpt-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            const long rows = 8960, cols = 1536;
            var tensorBytes = rows * cols * 2;
            var count = Math.Max(1, (int)((long)sizeMiB * (1 << 20) / tensorBytes));
            using (var scope = NewDisposeScope())
            {
                var stateDict = new Dictionary<string, Tensor>();
                for (var i = 0; i < count; i++)
                {
                    stateDict[$"model.layers.{i}.mlp.up_proj.weight"] = randn(rows, cols, dtype: ScalarType.BFloat16);
                }

                var write = Stopwatch.StartNew();
                CheckpointWriter.Write(folder, new Qwen2VlConfig(), stateDict, new CheckpointWriteOptions { MaxShardBytes = 256L << 20 });
                Report("write (CheckpointWriter, 256 MiB shards)", count * tensorBytes, write.Elapsed, 0);
            }

            var checkpoint = CheckpointFolder.Open(folder);
            BenchmarkContext.Report($"{count} tensors of {rows}x{cols} bf16 = {count * tensorBytes / (1 << 20)} MiB in {checkpoint.WeightFiles.Count} shards (page cache warm after writing)");
            for (var repeat = 0; repeat < 2; repeat++)
            {
                if (Runs("ours"))
                {
                    Measure("CheckpointFolder.LoadStateDict", count * tensorBytes, () => checkpoint.LoadStateDict());
                }

                if (Runs("pybridge"))
                {
                    Measure("PyBridge Safetensors.LoadStateDict (per shard)", count * tensorBytes, () =>
                    {
                        var all = new Dictionary<string, Tensor>();
                        foreach (var file in checkpoint.WeightFiles)
                        {
                            foreach (var (name, tensor) in global::TorchSharp.PyBridge.Safetensors.LoadStateDict(file))
                            {
                                all[name] = tensor;
                            }
                        }

                        return all;
                    });
                }

                if (Runs("fp32"))
                {
                    Measure("CheckpointFolder.LoadStateDict to float32", count * tensorBytes, () => checkpoint.LoadStateDict(new CheckpointLoadOptions { DType = ScalarType.Float32 }));
                }
            }

            if (Runs("merge"))
            {
                using var scope = NewDisposeScope();
                var weight = randn(rows, cols, dtype: ScalarType.BFloat16);
                var a = randn(8, cols).mul_(0.125);
                var b = randn(rows, 8).mul_(0.01);
                var m = linalg.vector_norm(weight.to(ScalarType.Float32), 2, [1], false);
                var rate = BenchmarkContext.MeasureRate(() =>
                {
                    using var merged = LoraMath.MergedWeight(weight, a, b, m, 8.0, ScalarType.BFloat16);
                }, minSeconds: 3);
                BenchmarkContext.Report($"DoRA merge of one {rows}x{cols} bf16 weight (fp32 math): {1000 / rate:F1} ms; 28 layers x 5 V1 targets of this size or smaller: < {140 / rate:F1} s");
            }
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        return Task.CompletedTask;
    }

    private static void Measure(string label, long bytes, Func<Dictionary<string, Tensor>> load)
    {
        GC.Collect();
        var baseline = CurrentRssMiB();
        BenchmarkContext.ResetPeakWorkingSet();
        var sw = Stopwatch.StartNew();
        var loaded = load();
        sw.Stop();
        var peak = BenchmarkContext.PeakWorkingSetMiB() - baseline;
        foreach (var tensor in loaded.Values)
        {
            tensor.Dispose();
        }

        Report(label, bytes, sw.Elapsed, peak);
    }

    private static void Report(string label, long bytes, TimeSpan elapsed, double peakAboveBaselineMiB) =>
        BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture,
            $"{label,-50} {bytes / (double)(1 << 20) / elapsed.TotalSeconds,8:F0} MiB/s  {elapsed.TotalSeconds,6:F2} s  peak RSS +{peakAboveBaselineMiB:F0} MiB"));

    private static double CurrentRssMiB()
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
}
