using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Vlm2Vec.Server;
using Vlm2Vec.Server.Tests.Fakes;
using Vlm2Vec.TorchSharp;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Load on the OpenAI-compatible server over loopback: 1, 16 and 64 concurrent clients, each posting COCO captions as
/// fast as answers come back, for a bounded time per level. Reports throughput, p50/p99 latency, errors and the mean
/// encoder batch, next to the same encoder's offline batch throughput (Vlm2VecEmbedder) measured in the same run.
/// </summary>
/// <remarks>
/// Args: <c>[--seconds 30] [--clients 1,16,64] [--items 1] [--batch-ms 8] [--cell-us 2] [--model FOLDER]</c>. Without
/// <c>--model</c> the encoder is the hashing stand-in with simulated accelerator latency (a fixed cost per batch plus
/// one per padded token cell, spent waiting, not computing), so the figures measure the server, not a model; with
/// <c>--model</c> a model bundle runs on the ONNX Runtime CPU encoder, a Hugging Face checkpoint on the TorchSharp one. Loopback only; every loop is bounded.
/// </remarks>
internal sealed class ServerLoadBenchmark : IBenchmark
{
    private const string ModelName = "bench";

    public string Name => "server-load";

    public string Description => "Embeddings server under 1/16/64 concurrent loopback clients (30 s each): inputs/s, p50/p99, errors vs offline batch throughput.";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        var seconds = Math.Clamp(double.Parse(Arg(args, "--seconds", "30"), CultureInfo.InvariantCulture), 1, 120);
        var clientLevels = Arg(args, "--clients", "1,16,64").Split(',').Select(c => Math.Clamp(int.Parse(c, CultureInfo.InvariantCulture), 1, 256)).ToArray();
        var itemsPerRequest = Math.Clamp(int.Parse(Arg(args, "--items", "1"), CultureInfo.InvariantCulture), 1, 64);
        var batchLatency = TimeSpan.FromMilliseconds(double.Parse(Arg(args, "--batch-ms", "8"), CultureInfo.InvariantCulture));
        var cellLatency = TimeSpan.FromMicroseconds(double.Parse(Arg(args, "--cell-us", "2"), CultureInfo.InvariantCulture));
        var modelFolder = ArgOrNull(args, "--model");

        var captions = File.ReadLines(context.DataPath("captions", "coco-mini", "pairs.tsv")).Skip(1)
            .Select(line => line.Split('\t')[3]).Where(c => c.Length > 0).ToArray();
        var batching = new DynamicBatchingOptions();
        IVlm2VecEncoder CreateEncoder()
        {
            if (modelFolder is not null && File.Exists(Path.Combine(modelFolder, Vlm2VecBundleManifest.FileName)))
            {
                return OnnxRuntime.OnnxVlm2VecEncoder.FromBundle(modelFolder);
            }

            if (modelFolder is not null)
            {
                TorchSharpRuntime.EnsureLoaded();
                return TorchSharpVlm2VecEncoder.FromPretrained(modelFolder);
            }

            return new HashingEncoder(Vlm2VecPreprocessor.FromFolder(context.DataPath("tokenizer", "qwen2-vl")), 1536, ModelName)
            {
                BatchLatency = batchLatency,
                CellLatency = cellLatency,
            };
        }

        BenchmarkContext.Report(modelFolder is null
            ? $"encoder: hashing stand-in, 1536 dims, simulated latency {batchLatency.TotalMilliseconds:N1} ms/batch + {cellLatency.TotalMicroseconds:N1} µs/padded token"
            : $"encoder: {(File.Exists(Path.Combine(modelFolder, Vlm2VecBundleManifest.FileName)) ? "ONNX Runtime CPU (bundle)" : "TorchSharp CPU")}, {modelFolder}");
        BenchmarkContext.Report($"inputs: COCO captions, {itemsPerRequest} per request; server batch ≤ {batching.MaxBatchSize} rows, ≤ {batching.MaxBatchTokens} tokens, wait ≤ {batching.MaxWait.TotalMilliseconds} ms");

        // Offline: the same encoder through the facade, full batches, no HTTP.
        double offline;
        using (var encoder = CreateEncoder())
        {
            var embedder = new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = batching.MaxBatchSize, MaxBatchTokens = batching.MaxBatchTokens });
            var inputs = captions.Take(256).Select(c => MultimodalInput.FromText(c)).ToList();
            await embedder.EmbedAsync(inputs.Take(32).ToList());
            var watch = Stopwatch.StartNew();
            var done = 0;
            while (watch.Elapsed.TotalSeconds < Math.Min(seconds, 10))
            {
                await embedder.EmbedAsync(inputs);
                done += inputs.Count;
            }

            offline = done / watch.Elapsed.TotalSeconds;
            BenchmarkContext.Report($"offline (Vlm2VecEmbedder.EmbedAsync, 256 inputs per call): {offline:N1} inputs/s");
        }

        var encoderForServer = CreateEncoder();
        var options = new Vlm2VecServerOptions { Urls = ["http://127.0.0.1:0"], ModelName = ModelName, Batching = batching };
        await using var host = Vlm2VecServerHost.Create(options, _ => Task.FromResult(encoderForServer));
        await host.StartAsync();
        await host.WaitForModelAsync();
        var address = host.Addresses.Single();
        BenchmarkContext.Report($"server: {address} (loopback)");
        _ = await RunLevelAsync(address, 4, itemsPerRequest, captions, TimeSpan.FromSeconds(Math.Min(3, seconds))); // warm-up (JIT, connections)
        BenchmarkContext.Report("clients | requests |  inputs/s | vs offline | p50 ms | p99 ms | max ms | errors | mean batch");
        foreach (var clients in clientLevels)
        {
            var batchesBefore = (encoderForServer as HashingEncoder)?.Batches.ToArray() ?? [];
            var result = await RunLevelAsync(address, clients, itemsPerRequest, captions, TimeSpan.FromSeconds(seconds));
            var batches = (encoderForServer as HashingEncoder)?.Batches.Skip(batchesBefore.Length).ToList() ?? [];
            var meanBatch = batches.Count > 0 ? batches.Average(b => b.Rows).ToString("N1", CultureInfo.InvariantCulture) : "n/a";
            var rate = result.Inputs / result.Elapsed.TotalSeconds;
            BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture,
                $"{clients,7} | {result.Latencies.Count,8} | {rate,9:N1} | {rate / offline,9:P0} | {Percentile(result.Latencies, 0.50),6:N1} | {Percentile(result.Latencies, 0.99),6:N1} | {result.Latencies.DefaultIfEmpty().Max(),6:N1} | {result.Errors,6} | {meanBatch,10}"));
            if (result.FirstError is not null)
            {
                BenchmarkContext.Report($"  first error: {result.FirstError}");
            }
        }

        await host.StopAsync();
        BenchmarkContext.Report($"peak RSS {BenchmarkContext.PeakWorkingSetMiB():N0} MiB");
    }

    private static async Task<LevelResult> RunLevelAsync(Uri address, int clients, int itemsPerRequest, string[] captions, TimeSpan duration)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var latencies = new List<double>[clients];
        var errors = 0;
        var inputs = 0L;
        string? firstError = null;
        var watch = Stopwatch.StartNew();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
        {
            var own = latencies[client] = [];
            while (watch.Elapsed < duration)
            {
                var start = Interlocked.Add(ref next, itemsPerRequest);
                var texts = Enumerable.Range(start, itemsPerRequest).Select(i => captions[i % captions.Length]).ToArray();
                var body = JsonSerializer.Serialize(new { model = ModelName, input = texts, encoding_format = "base64" });
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
                    _ = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        own.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                        Interlocked.Add(ref inputs, itemsPerRequest);
                    }
                    else
                    {
                        Interlocked.Increment(ref errors);
                        firstError ??= $"{(int)response.StatusCode} {response.ReasonPhrase}";
                    }
                }
                catch (HttpRequestException ex)
                {
                    Interlocked.Increment(ref errors);
                    firstError ??= ex.Message;
                }
            }
        }));
        var elapsed = watch.Elapsed;
        return new LevelResult([.. latencies.SelectMany(l => l)], inputs, errors, elapsed, firstError);
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private static string Arg(string[] args, string name, string fallback) => ArgOrNull(args, name) ?? fallback;

    private static string? ArgOrNull(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private sealed record LevelResult(List<double> Latencies, long Inputs, int Errors, TimeSpan Elapsed, string? FirstError);
}
