using System.Diagnostics;
using Microsoft.Extensions.AI;
using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Distributed;
using Vlm2Vec.Extensions.AI;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// What <see cref="Vlm2VecEmbeddingGenerator"/> adds on top of <see cref="Vlm2VecEmbedder"/> (content translation,
/// instruction resolution, result assembly), and the distributed cache's hit path, with an encoder that does no model
/// work so that only preprocessing and the adapter are measured. Args: [images] (default 64).
/// </summary>
internal sealed class EmbeddingGeneratorBenchmark : IBenchmark
{
    public string Name => "embedding-generator";

    public string Description => "Vlm2VecEmbeddingGenerator vs Vlm2VecEmbedder items/s (text, images; no model work) and Vlm2Vec distributed-cache hits/s.";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 64;
        var preprocessor = Vlm2VecPreprocessor.FromFolder(context.DataPath("tokenizer", "qwen2-vl"));
        using var encoder = new ConstantEncoder(preprocessor);
        var embedder = new Vlm2VecEmbedder(encoder);
        using var generator = new Vlm2VecEmbeddingGenerator(embedder);
        var instruction = new Vlm2VecDefaultInstructions().TextQuery;
        var texts = Enumerable.Range(0, count).Select(i => $"A photo of object number {i} seen from the side, on a plain background.").ToList();
        var images = Directory.EnumerateFiles(context.DataPath("classification", "caltech101-test10", "images"), "*.jpg", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).Take(count).Select(File.ReadAllBytes).ToList();

        var textInputs = texts.Select(t => MultimodalInput.FromText(t, instruction)).ToList();
        var textContents = texts.Select(t => (AIContent)new TextContent(t)).ToList();
        var imageInputs = images.Select(b => MultimodalInput.FromImage(ImageInput.FromBytes(b), new Vlm2VecDefaultInstructions().ImageQuery)).ToList();
        var imageContents = images.Select(b => (AIContent)new DataContent(b, "image/jpeg")).ToList();

        // One untimed round of everything first, so that tiering and caches favour neither side.
        await RateAsync(() => embedder.EmbedEachAsync(textInputs), textInputs.Count, 1);
        await RateAsync(() => generator.GenerateAsync(textContents), textContents.Count, 1);
        await RateAsync(() => embedder.EmbedEachAsync(imageInputs), imageInputs.Count, 1);
        await RateAsync(() => generator.GenerateAsync(imageContents), imageContents.Count, 1);
        var embedderText = await RateAsync(() => embedder.EmbedEachAsync(textInputs), textInputs.Count);
        var generatorText = await RateAsync(() => generator.GenerateAsync(textContents), textContents.Count);
        var embedderImages = await RateAsync(() => embedder.EmbedEachAsync(imageInputs), imageInputs.Count);
        var generatorImages = await RateAsync(() => generator.GenerateAsync(imageContents), imageContents.Count);
        BenchmarkContext.Report($"text ({count} items/call): embedder {embedderText:N0} items/s, generator {generatorText:N0} items/s ({Overhead(embedderText, generatorText)})");
        BenchmarkContext.Report($"images ({images.Count} JPEGs/call): embedder {embedderImages:N1} items/s, generator {generatorImages:N1} items/s ({Overhead(embedderImages, generatorImages)})");

        var cache = new DictionaryCache();
        using var cached = generator.AsBuilder().UseVlm2VecDistributedCache(cache).Build();
        await cached.GenerateAsync(imageContents);
        var hits = await RateAsync(() => cached.GenerateAsync(imageContents), imageContents.Count);
        BenchmarkContext.Report($"cache hits (images, key hashes the bytes): {hits:N0} items/s");
        BenchmarkContext.Report($"peak RSS {BenchmarkContext.PeakWorkingSetMiB():N0} MiB");
    }

    private static string Overhead(double direct, double adapter) => $"{(direct / adapter - 1) * 100:+0.0;-0.0}% time";

    private static async Task<double> RateAsync<T>(Func<Task<T>> call, int items, double seconds = 3)
    {
        await call();
        var sw = Stopwatch.StartNew();
        var calls = 0;
        while (calls < 3 || sw.Elapsed.TotalSeconds < seconds)
        {
            await call();
            calls++;
        }

        return calls * items / sw.Elapsed.TotalSeconds;
    }

    /// <summary>An in-process <see cref="IDistributedCache"/> (a dictionary; no expiry), so the hit path measures the generator's side.</summary>
    private sealed class DictionaryCache : IDistributedCache
    {
        private readonly ConcurrentDictionary<string, byte[]> _entries = new(StringComparer.Ordinal);

        public byte[]? Get(string key) => _entries.TryGetValue(key, out var value) ? value : null;

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult(Get(key));

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => _entries[key] = value;

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            Set(key, value, options);
            return Task.CompletedTask;
        }

        public void Refresh(string key)
        {
        }

        public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

        public void Remove(string key) => _entries.TryRemove(key, out _);

        public Task RemoveAsync(string key, CancellationToken token = default)
        {
            Remove(key);
            return Task.CompletedTask;
        }
    }

    /// <summary>Returns the same unit vector for every row: no model work.</summary>
    private sealed class ConstantEncoder(Vlm2VecPreprocessor preprocessor) : IVlm2VecEncoder
    {
        public Vlm2VecModelInfo Info { get; } = new() { ModelId = "constant", Dimension = 1536 };

        public Vlm2VecPreprocessor Preprocessor { get; } = preprocessor;

        public Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
        {
            var vectors = new float[batch.BatchSize][];
            for (var i = 0; i < vectors.Length; i++)
            {
                vectors[i] = new float[Info.Dimension];
                vectors[i][0] = 1;
            }

            return Task.FromResult(vectors);
        }

        public void Dispose()
        {
        }
    }
}
