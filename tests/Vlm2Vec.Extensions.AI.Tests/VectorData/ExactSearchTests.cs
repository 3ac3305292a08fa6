using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// The heap-based (and multi-threaded) top-k equals a naive "score everything, sort, skip, take" on random data, for
/// every distance function, with filters, thresholds and slots reused after deletes; scores match a double-precision
/// reference.
/// </summary>
public sealed class ExactSearchTests
{
    private const int Dimensions = 48;

    // 28,000 × 48 floats (about 26,000 live after the deletes): above the parallel threshold, seven arena chunks of 4096 rows.
    private const int Count = 28_000;

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var function in new[]
        {
            DistanceFunction.CosineSimilarity, DistanceFunction.CosineDistance, DistanceFunction.DotProductSimilarity,
            DistanceFunction.NegativeDotProductSimilarity, DistanceFunction.EuclideanDistance, DistanceFunction.EuclideanSquaredDistance,
            DistanceFunction.ManhattanDistance,
        })
        {
            data.Add(function, 1);
            data.Add(function, 4);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Top_k_equals_a_naive_sort(string distanceFunction, int parallelism)
    {
        var random = new Random(42);
        var records = Enumerable.Range(0, Count).Select(i => new Item { Key = i, Group = i % 7, Vector = RandomVector(random) }).ToArray();
        using var store = new Vlm2VecVectorStore(new Vlm2VecVectorStoreOptions { MaxSearchParallelism = parallelism });
        var collection = store.GetCollection<int, Item>("items", Definition(distanceFunction));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(records);

        // Free some slots and refill them, so storage order differs from key order.
        var deleted = Enumerable.Range(0, Count).Where(i => i % 5 == 0).ToArray();
        await collection.DeleteAsync(deleted);
        var refilled = deleted.Take(deleted.Length / 2).Select(i => new Item { Key = Count + i, Group = i % 7, Vector = RandomVector(random) }).ToArray();
        await collection.UpsertAsync(refilled);
        var live = records.Where(r => r.Key % 5 != 0).Concat(refilled).ToArray();
        Assert.True((long)live.Length * Dimensions >= ExactSearch.ParallelThresholdFloats, "The data is too small to exercise the parallel scan.");
        var higherIsCloser = distanceFunction is DistanceFunction.CosineSimilarity or DistanceFunction.DotProductSimilarity;

        for (var q = 0; q < 2; q++)
        {
            var query = RandomVector(random);
            var expected = Naive(live, query, distanceFunction, higherIsCloser);

            var top = await collection.SearchAsync(query, top: 25).ToListAsync();
            Assert.Equal(expected.Take(25).Select(e => e.Key), top.Select(r => r.Record.Key));
            for (var i = 0; i < top.Count; i++)
            {
                Assert.Equal(expected[i].Score, top[i].Score!.Value, tolerance: 1e-5 * (1 + Math.Abs(expected[i].Score)));
            }

            var skipped = await collection.SearchAsync(query, top: 10, new() { Skip = 40 }).ToListAsync();
            Assert.Equal(expected.Skip(40).Take(10).Select(e => e.Key), skipped.Select(r => r.Record.Key));

            var filtered = await collection.SearchAsync(query, top: 15, new() { Filter = r => r.Group == 3 }).ToListAsync();
            Assert.Equal(expected.Where(e => e.Group == 3).Take(15).Select(e => e.Key), filtered.Select(r => r.Record.Key));

            // Halfway between the 31st and 32nd scores, so float-vs-double rounding cannot move a record across it.
            var threshold = (expected[30].Score + expected[31].Score) / 2;
            var thresholded = await collection.SearchAsync(query, top: 100, new() { ScoreThreshold = threshold }).ToListAsync();
            Assert.Equal(expected.Take(31).Select(e => e.Key), thresholded.Select(r => r.Record.Key));
        }
    }

    [Fact]
    public async Task Top_larger_than_the_collection_returns_everything_in_order()
    {
        var random = new Random(7);
        using var store = new Vlm2VecVectorStore(databasePath: null);
        var collection = store.GetCollection<int, Item>("items", Definition(DistanceFunction.EuclideanDistance));
        await collection.EnsureCollectionExistsAsync();
        var records = Enumerable.Range(0, 50).Select(i => new Item { Key = i, Vector = RandomVector(random) }).ToArray();
        await collection.UpsertAsync(records);
        var query = RandomVector(random);

        var all = await collection.SearchAsync(query, top: 1000).ToListAsync();

        Assert.Equal(Naive(records, query, DistanceFunction.EuclideanDistance, higherIsCloser: false).Select(e => e.Key), all.Select(r => r.Record.Key));
    }

    /// <summary>Scores every record in double precision and sorts (stable, so ties keep insertion order).</summary>
    private static List<(int Key, int Group, double Score)> Naive(IEnumerable<Item> records, float[] query, string distanceFunction, bool higherIsCloser)
    {
        var scored = records.Select(r => (r.Key, r.Group, Score: Reference(query, r.Vector.Span, distanceFunction))).ToList();
        return higherIsCloser ? [.. scored.OrderByDescending(s => s.Score)] : [.. scored.OrderBy(s => s.Score)];
    }

    private static double Reference(float[] q, ReadOnlySpan<float> v, string distanceFunction)
    {
        double dot = 0, qq = 0, vv = 0, squared = 0, manhattan = 0;
        for (var i = 0; i < q.Length; i++)
        {
            dot += (double)q[i] * v[i];
            qq += (double)q[i] * q[i];
            vv += (double)v[i] * v[i];
            squared += ((double)q[i] - v[i]) * ((double)q[i] - v[i]);
            manhattan += Math.Abs((double)q[i] - v[i]);
        }

        var cosine = dot / Math.Sqrt(qq * vv);
        return distanceFunction switch
        {
            DistanceFunction.CosineSimilarity => cosine,
            DistanceFunction.CosineDistance => 1 - cosine,
            DistanceFunction.DotProductSimilarity => dot,
            DistanceFunction.NegativeDotProductSimilarity => -dot,
            DistanceFunction.EuclideanDistance => Math.Sqrt(squared),
            DistanceFunction.EuclideanSquaredDistance => squared,
            _ => manhattan,
        };
    }

    private static float[] RandomVector(Random random)
    {
        var vector = new float[Dimensions];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return vector;
    }

    private static VectorStoreCollectionDefinition Definition(string distanceFunction) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(Item.Key), typeof(int)),
            new VectorStoreDataProperty(nameof(Item.Group), typeof(int)),
            new VectorStoreVectorProperty(nameof(Item.Vector), typeof(ReadOnlyMemory<float>), Dimensions) { DistanceFunction = distanceFunction },
        ],
    };

    public sealed class Item
    {
        public int Key { get; set; }

        public int Group { get; set; }

        public ReadOnlyMemory<float> Vector { get; set; }
    }
}
