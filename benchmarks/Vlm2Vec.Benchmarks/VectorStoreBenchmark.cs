using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// <see cref="Vlm2VecVectorStore"/>: exact top-10 search latency (p50/p99, all cores and one core) and recall against an
/// independent naive scan, for random L2-normalised vectors held in memory, and upsert throughput into the SQLite file
/// (plus the time to load it back). Vectors are a pure function of their index (SplitMix64), so the naive scan
/// regenerates them instead of keeping a second copy of the data.
/// Args: [sizes, default 10000,100000,1000000; 0 skips the search part] [dimensions, default 1536] [SQLite vectors, default 100000] [SQLite batch, default 1000].
/// </summary>
internal sealed class VectorStoreBenchmark : IBenchmark
{
    private const int Top = 10;
    private const int InsertBatch = 10_000;
    private const ulong DataSeed = 0x5EED_DA7A;
    private const ulong QuerySeed = 0x0000_9E21;

    public string Name => "vector-store";

    public string Description => "Vlm2VecVectorStore: exact top-10 search latency and recall (in memory), SQLite upsert throughput and load time";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        var sizes = (args.Length > 0 ? args[0] : "10000,100000,1000000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var dimensions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1536;
        var sqliteCount = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100_000;
        var sqliteBatch = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1000;
        BenchmarkContext.Report($"dimensions {dimensions}, top {Top}, cosine similarity, {Environment.ProcessorCount} search threads (and 1)");

        foreach (var size in sizes.Where(s => s > 0))
        {
            await SearchAsync(size, dimensions);
        }

        if (sqliteCount > 0)
        {
            await SqliteInsertAsync(sqliteCount, dimensions, sqliteBatch);
        }
    }

    private static async Task SearchAsync(int size, int dimensions)
    {
        BenchmarkContext.ResetPeakWorkingSet();
        using var store = new Vlm2VecVectorStore(new Vlm2VecVectorStoreOptions { MaxSearchParallelism = Environment.ProcessorCount });
        var collection = store.GetCollection<int, Item>("bench", Definition(dimensions));
        await collection.EnsureCollectionExistsAsync();

        var insert = new Stopwatch();
        for (var start = 0; start < size; start += InsertBatch)
        {
            var batch = Batch(start, Math.Min(InsertBatch, size - start), dimensions);
            insert.Start();
            await collection.UpsertAsync(batch);
            insert.Stop();
        }

        BenchmarkContext.Report(
            $"n={size,9:N0}: in-memory upsert {size / insert.Elapsed.TotalSeconds,10:N0} vectors/s (batches of {InsertBatch:N0}), peak RSS {BenchmarkContext.PeakWorkingSetMiB():N0} MiB");

        var queries = size switch { <= 10_000 => 300, <= 100_000 => 100, _ => 20 };
        var parallel = await LatenciesAsync(collection, queries, dimensions);
        BenchmarkContext.Report($"             search, {Environment.ProcessorCount} threads: p50 {Percentile(parallel, 0.5),8:0.00} ms, p99 {Percentile(parallel, 0.99),8:0.00} ms ({queries} queries)");

        store.MaxSearchParallelism = 1;
        var serial = await LatenciesAsync(collection, queries, dimensions);
        store.MaxSearchParallelism = Environment.ProcessorCount;
        BenchmarkContext.Report($"             search, 1 thread:  p50 {Percentile(serial, 0.5),8:0.00} ms, p99 {Percentile(serial, 0.99),8:0.00} ms");

        var recallQueries = size switch { <= 10_000 => 20, <= 100_000 => 10, _ => 3 };
        var (recall, scoreError) = await RecallAsync(collection, size, dimensions, recallQueries);
        BenchmarkContext.Report($"             recall@{Top} {recall:0.0000} vs naive scan over {recallQueries} queries (max |score difference| {scoreError:E1})");
    }

    private static async Task<double[]> LatenciesAsync(VectorStoreCollection<int, Item> collection, int queries, int dimensions)
    {
        for (var i = 0; i < 3; i++)
        {
            await collection.SearchAsync(Vector(QuerySeed, 1_000_000 + i, dimensions), Top).ToListAsync();
        }

        var latencies = new double[queries];
        for (var q = 0; q < queries; q++)
        {
            var query = Vector(QuerySeed, q, dimensions);
            var watch = Stopwatch.StartNew();
            var results = await collection.SearchAsync(query, Top).ToListAsync();
            latencies[q] = watch.Elapsed.TotalMilliseconds;
            if (results.Count != Top)
            {
                throw new InvalidOperationException($"Search returned {results.Count} results.");
            }
        }

        Array.Sort(latencies);
        return latencies;
    }

    /// <summary>Recall of the store's top-k against a naive full scan (regenerated vectors, full sort).</summary>
    private static async Task<(double Recall, double MaxScoreError)> RecallAsync(VectorStoreCollection<int, Item> collection, int size, int dimensions, int queries)
    {
        var hits = 0;
        var maxError = 0.0;
        var vector = new float[dimensions];
        for (var q = 0; q < queries; q++)
        {
            var query = Vector(QuerySeed, q, dimensions);
            var scores = new (float Score, int Key)[size];
            for (var i = 0; i < size; i++)
            {
                Fill(DataSeed, i, vector);
                scores[i] = (TensorPrimitives.CosineSimilarity(query.Span, vector), i);
            }

            Array.Sort(scores, (a, b) => b.Score.CompareTo(a.Score));
            var expected = scores.Take(Top).ToArray();
            var actual = await collection.SearchAsync(query, Top).ToListAsync();
            hits += actual.Count(a => expected.Any(e => e.Key == a.Record.Key));
            for (var i = 0; i < Top; i++)
            {
                maxError = Math.Max(maxError, Math.Abs(actual[i].Score!.Value - expected[i].Score));
            }
        }

        return ((double)hits / (queries * Top), maxError);
    }

    private static async Task SqliteInsertAsync(int count, int dimensions, int batch)
    {
        var folder = Path.Combine(Path.GetTempPath(), "vlm2vec-store-bench-" + Guid.NewGuid().ToString("N"));
        var path = Path.Combine(folder, "bench.db");
        try
        {
            foreach (var durability in new[] { Vlm2VecVectorStoreDurability.PowerLoss, Vlm2VecVectorStoreDurability.ProcessCrash })
            {
                if (File.Exists(path))
                {
                    Directory.Delete(folder, recursive: true);
                }

                double seconds;
                using (var store = new Vlm2VecVectorStore(new Vlm2VecVectorStoreOptions { DatabasePath = path, Durability = durability }))
                {
                    var collection = store.GetCollection<int, Item>("bench", Definition(dimensions));
                    await collection.EnsureCollectionExistsAsync();
                    var watch = new Stopwatch();
                    for (var start = 0; start < count; start += batch)
                    {
                        var records = Batch(start, Math.Min(batch, count - start), dimensions);
                        watch.Start();
                        await collection.UpsertAsync(records);
                        watch.Stop();
                    }

                    seconds = watch.Elapsed.TotalSeconds;
                }

                var megabytes = Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length) / 1048576.0;
                BenchmarkContext.Report(
                    $"SQLite upsert, {durability,-12} batches of {batch,5}: {count / seconds,9:N0} vectors/s ({count:N0} × {dimensions} in {seconds:0.0} s, file {megabytes:N0} MiB)");
            }

            var load = Stopwatch.StartNew();
            using (var store = new Vlm2VecVectorStore(path))
            {
                var collection = store.GetCollection<int, Item>("bench", Definition(dimensions));
                var first = await collection.GetAsync(0, new() { IncludeVectors = true });
                load.Stop();
                if (first is null || !first.Vector.Span.SequenceEqual(Vector(DataSeed, 0, dimensions).Span))
                {
                    throw new InvalidOperationException("The reloaded store does not hold the written vectors.");
                }
            }

            BenchmarkContext.Report($"SQLite open + load of {count:N0} vectors: {load.Elapsed.TotalSeconds:0.00} s ({count / load.Elapsed.TotalSeconds:N0} vectors/s)");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Records [start, start + count), generated before the clock starts.</summary>
    private static Item[] Batch(int start, int count, int dimensions)
    {
        var items = new Item[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = new Item { Key = start + i, Vector = Vector(DataSeed, start + i, dimensions) };
        }

        return items;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static VectorStoreCollectionDefinition Definition(int dimensions) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(Item.Key), typeof(int)),
            new VectorStoreVectorProperty(nameof(Item.Vector), typeof(ReadOnlyMemory<float>), dimensions) { DistanceFunction = DistanceFunction.CosineSimilarity },
        ],
    };

    private static ReadOnlyMemory<float> Vector(ulong seed, int index, int dimensions)
    {
        var vector = new float[dimensions];
        Fill(seed, index, vector);
        return vector;
    }

    /// <summary>A random unit vector that depends only on (seed, index): uniform components in [-1, 1), then L2-normalised.</summary>
    private static void Fill(ulong seed, int index, Span<float> vector)
    {
        var state = seed ^ ((ulong)index * 0x9E3779B97F4A7C15UL);
        for (var i = 0; i < vector.Length; i++)
        {
            // SplitMix64 (hand-written: System.Random's output is not specified across runtime versions, and the naive
            // scan must regenerate exactly the same vectors).
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            vector[i] = (float)((z >> 40) * (1.0 / (1UL << 24)) * 2.0 - 1.0);
        }

        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
    }

    /// <summary>The benchmark's record.</summary>
    public sealed class Item
    {
        /// <summary>The index the vector was drawn from.</summary>
        public int Key { get; set; }

        /// <summary>The unit vector.</summary>
        public ReadOnlyMemory<float> Vector { get; set; }
    }
}
