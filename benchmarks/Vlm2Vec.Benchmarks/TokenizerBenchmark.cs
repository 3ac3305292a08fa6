using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Qwen2-VL tokenizer throughput on one thread over COCO captions: the 25,014 captions of captions_val2017.json and the
/// 1,195 of coco-mini, with the merge cache cold (cleared before each pass) and warm, without a cache, through each
/// encode overload, over one long document, and Microsoft.ML.Tokenizers' BpeTokenizer set up the same way for reference.
/// The variants of a corpus run interleaved and report their median pass. Arguments: [seconds per variant, default 3].
/// </summary>
internal sealed class TokenizerBenchmark : IBenchmark
{
    public string Name => "tokenizer";

    public string Description => "Qwen2-VL tokenizer throughput (MB/s, tokens/s) on COCO captions: cold/warm merge cache, overloads, ML.Tokenizers reference";

    public Task RunAsync(BenchmarkContext context, string[] args)
    {
        var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3.0;
        var folder = context.DataPath("tokenizer", "qwen2-vl");

        var loadWatch = Stopwatch.StartNew();
        var tokenizer = Qwen2Tokenizer.FromFolder(folder);
        var firstLoad = loadWatch.Elapsed.TotalMilliseconds;
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        loadWatch.Restart();
        var second = Qwen2Tokenizer.FromFolder(folder);
        var secondLoad = loadWatch.Elapsed.TotalMilliseconds;
        second.Decode([0]);
        var retained = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        GC.KeepAlive(second);
        BenchmarkContext.Report(
            $"load tokenizer.json + tokenizer_config.json: {firstLoad:F0} ms first in the process, {secondLoad:F0} ms again; " +
            $"one tokenizer holds {retained / 1048576.0:F1} MiB (decode table built, merge cache empty)");

        var corpora = new (string Name, string[] Texts)[]
        {
            ("captions_val2017 (25,014)", ReadValCaptions(context.DataPath("captions", "coco-mini", "annotations", "captions_val2017.json"))),
            ("coco-mini (1,195)", ReadMiniCaptions(context.DataPath("captions", "coco-mini", "captions.jsonl"))),
        };

        // JIT warm-up on a separate instance, so "cold" below means a cold merge cache, not cold code.
        var warmup = Qwen2Tokenizer.FromFolder(folder);
        foreach (var text in corpora[0].Texts)
        {
            warmup.Encode(text);
        }

        var uncached = Qwen2Tokenizer.FromFolder(folder, new Qwen2TokenizerOptions { MergeCacheCapacity = 0 });
        var ml = CreateMlTokenizer(folder);

        foreach (var (name, texts) in corpora)
        {
            var bytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
            var tokens = texts.Sum(t => (long)tokenizer.CountTokens(t));
            BenchmarkContext.Report($"\n## {name}: {texts.Length:N0} texts, {bytes / 1e6:F2} MB UTF-8, {tokens:N0} tokens ({tokens / (double)texts.Length:F1} per text)");
            BenchmarkContext.Report($"{"run",-44} {"MB/s",8} {"Mtok/s",8} {"µs/text",8} {"alloc B/text",12}");

            var cold = Qwen2Tokenizer.FromFolder(folder);
            var list = new List<int>(256);
            var buffer = new int[4096];
            var mlTokens = texts.Sum(t => (long)ml.EncodeToIds(t).Count);
            var identical = texts.All(t => ml.EncodeToIds(t).SequenceEqual(tokenizer.Encode(t)));

            // The variants run interleaved, one pass each per round, and each reports its median pass: on a shared machine
            // a slow spell then hits every variant alike instead of whichever ran during it.
            Variant[] variants =
            [
                new("Encode(string), merge cache cold", tokens, cold.ClearMergeCache, () =>
                {
                    foreach (var text in texts)
                    {
                        cold.Encode(text);
                    }
                }),
                new("Encode(string), merge cache warm", tokens, null, () =>
                {
                    foreach (var text in texts)
                    {
                        tokenizer.Encode(text);
                    }
                }),
                new("Encode(span, List<int>) reused list, warm", tokens, null, () =>
                {
                    foreach (var text in texts)
                    {
                        list.Clear();
                        tokenizer.Encode(text, list);
                    }
                }),
                new("TryEncode(span, Span<int>), warm", tokens, null, () =>
                {
                    foreach (var text in texts)
                    {
                        tokenizer.TryEncode(text, buffer, out _);
                    }
                }),
                new("CountTokens, warm", tokens, null, () =>
                {
                    foreach (var text in texts)
                    {
                        tokenizer.CountTokens(text);
                    }
                }),
                new("Encode(string), no merge cache", tokens, null, () =>
                {
                    foreach (var text in texts)
                    {
                        uncached.Encode(text);
                    }
                }),
                new("ML.Tokenizers BpeTokenizer (same setup)", mlTokens, null, () =>
                {
                    foreach (var text in texts)
                    {
                        ml.EncodeToIds(text);
                    }
                }),
            ];

            RunInterleaved(variants, texts.Length, bytes, seconds);
            BenchmarkContext.Report($"  (merge cache after one pass: {cold.CachedPieceCount:N0} pieces; ML.Tokenizers ids identical: {identical})");

            var idLists = texts.Select(tokenizer.Encode).ToArray();
            var decodeRate = BenchmarkContext.MeasureRate(
                () =>
                {
                    foreach (var ids in idLists)
                    {
                        tokenizer.Decode(ids);
                    }
                },
                seconds);
            Line("Decode", bytes, tokens, texts.Length, decodeRate, double.NaN);
        }

        var document = string.Join(" ", corpora[0].Texts);
        var documentBytes = Encoding.UTF8.GetByteCount(document);
        var documentTokens = tokenizer.CountTokens(document);
        BenchmarkContext.Report($"\n## one document: all val captions joined, {documentBytes / 1e6:F2} MB, {documentTokens:N0} tokens");
        Measure("Encode(string) one long text, warm", [document], documentBytes, documentTokens, seconds, () => tokenizer.Encode(document));
        BenchmarkContext.Report($"\npeak working set: {BenchmarkContext.PeakWorkingSetMiB():F0} MiB");
        return Task.CompletedTask;
    }

    private static void RunInterleaved(Variant[] variants, int textCount, long bytes, double seconds)
    {
        // One untimed pass each (JIT, caches), and the allocation of one pass measured on its own.
        var allocated = new double[variants.Length];
        for (var v = 0; v < variants.Length; v++)
        {
            variants[v].Before?.Invoke();
            variants[v].Pass();
            variants[v].Before?.Invoke();
            var before = GC.GetAllocatedBytesForCurrentThread();
            variants[v].Pass();
            allocated[v] = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)textCount;
        }

        var samples = variants.Select(_ => new List<double>()).ToArray();
        var total = Stopwatch.StartNew();
        for (var round = 0; round < 5 || total.Elapsed.TotalSeconds < seconds * variants.Length; round++)
        {
            for (var v = 0; v < variants.Length; v++)
            {
                variants[v].Before?.Invoke();
                var watch = Stopwatch.StartNew();
                variants[v].Pass();
                samples[v].Add(watch.Elapsed.TotalSeconds);
            }
        }

        for (var v = 0; v < variants.Length; v++)
        {
            samples[v].Sort();
            var median = samples[v][samples[v].Count / 2];
            Line(variants[v].Name, bytes, variants[v].Tokens, textCount, 1 / median, allocated[v]);
        }
    }

    private static void Measure(string name, string[] texts, long bytes, long tokens, double seconds, Action pass)
    {
        pass();
        var before = GC.GetAllocatedBytesForCurrentThread();
        pass();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var rate = BenchmarkContext.MeasureRate(pass, seconds);
        Line(name, bytes, tokens, texts.Length, rate, allocated / (double)texts.Length);
    }

    private sealed record Variant(string Name, long Tokens, Action? Before, Action Pass);

    private static void Line(string name, long bytes, long tokens, int texts, double passesPerSecond, double allocatedPerText)
    {
        var alloc = double.IsNaN(allocatedPerText) ? "-" : allocatedPerText.ToString("F0", CultureInfo.InvariantCulture);
        BenchmarkContext.Report(
            $"{name,-44} {bytes * passesPerSecond / 1e6,8:F1} {tokens * passesPerSecond / 1e6,8:F2} {1e6 / (passesPerSecond * texts),8:F2} {alloc,12}");
    }

    // The closest Microsoft.ML.Tokenizers setup: byte-level BPE, the Qwen2 regex on .NET's engine, special tokens, no
    // NFC (it has no such normalizer). It agrees with the Qwen2 tokenizer on these ASCII captions.
    private static BpeTokenizer CreateMlTokenizer(string folder)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "tokenizer.json")));
        var model = document.RootElement.GetProperty("model");
        var vocab = new Dictionary<string, int>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            vocab[entry.Name] = entry.Value.GetInt32();
        }

        var merges = model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!).ToList();
        var special = new Dictionary<string, int>();
        foreach (var token in document.RootElement.GetProperty("added_tokens").EnumerateArray())
        {
            special[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();
        }

        const string pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
        return BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            SpecialTokens = special,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), special),
        });
    }

    private static string[] ReadValCaptions(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return [.. document.RootElement.GetProperty("annotations").EnumerateArray().Select(a => a.GetProperty("caption").GetString()!)];
    }

    private static string[] ReadMiniCaptions(string path)
    {
        var captions = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            using var document = JsonDocument.Parse(line);
            captions.AddRange(document.RootElement.GetProperty("captions").EnumerateArray().Select(c => c.GetString()!));
        }

        return [.. captions];
    }
}
