using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// Mirrors dotnet/extensions' <c>DistanceFunctionTests</c>: for each distance function, the scores of an exact match,
/// the opposite vector and an orthogonal one, the result order, and <c>ScoreThreshold</c> (inclusive: at least the
/// threshold for similarities, at most for distances).
/// </summary>
public sealed class DistanceFunctionTests
{
    [Theory]
    [InlineData(DistanceFunction.CosineDistance, 0, 2, 1, new[] { 0, 2, 1 })]
    [InlineData(DistanceFunction.CosineSimilarity, 1, -1, 0, new[] { 0, 2, 1 })]
    [InlineData(DistanceFunction.DotProductSimilarity, 1, -1, 0, new[] { 0, 2, 1 })]
    [InlineData(DistanceFunction.NegativeDotProductSimilarity, -1, 1, 0, new[] { 0, 2, 1 })]
    [InlineData(DistanceFunction.EuclideanDistance, 0, 2, 1.73, new[] { 0, 2, 1 })]
    [InlineData(DistanceFunction.EuclideanSquaredDistance, 0, 4, 3, new[] { 0, 2, 1 })]
    [InlineData(DistanceFunction.HammingDistance, 0, 1, 3, new[] { 0, 1, 2 })]
    [InlineData(DistanceFunction.ManhattanDistance, 0, 2, 3, new[] { 0, 1, 2 })]
    public async Task Scores_order_and_threshold(string distanceFunction, double exactMatch, double opposite, double orthogonal, int[] order)
    {
        using var store = new Vlm2VecVectorStore(databasePath: null);
        var collection = store.GetCollection<int, SearchRecord>("distances", Definition(distanceFunction));
        await collection.EnsureCollectionExistsAsync();
        SearchRecord[] inserted =
        [
            new() { Key = 1, Int = 1, Vector = new float[] { 1, 0, 0, 0 } },
            new() { Key = 2, Int = 2, Vector = new float[] { -1, 0, 0, 0 } },
            new() { Key = 3, Int = 3, Vector = new float[] { 0, -1, -1, 0 } },
        ];
        await collection.UpsertAsync(inserted);
        double[] scores = [exactMatch, opposite, orthogonal];

        var results = await collection.SearchAsync(new ReadOnlyMemory<float>([1, 0, 0, 0]), top: 3).ToListAsync();

        Assert.Equal(order.Select(i => inserted[i].Key), results.Select(r => r.Record.Key));
        Assert.Equal(order.Select(i => Math.Round(scores[i], 2)), results.Select(r => Math.Round(r.Score!.Value, 2)));

        var threshold = results[1].Score;
        var filtered = await collection.SearchAsync(new ReadOnlyMemory<float>([1, 0, 0, 0]), top: 3, new() { ScoreThreshold = threshold }).ToListAsync();
        Assert.Equal(results.Take(2).Select(r => r.Record.Key), filtered.Select(r => r.Record.Key));
    }

    [Fact]
    public async Task The_same_stored_vectors_serve_views_with_different_distance_functions()
    {
        using var store = new Vlm2VecVectorStore(databasePath: null);
        var cosine = store.GetCollection<int, SearchRecord>("shared", Definition(DistanceFunction.CosineSimilarity));
        await cosine.EnsureCollectionExistsAsync();
        await cosine.UpsertAsync([new SearchRecord { Key = 1, Vector = new float[] { 10, 0, 0, 0 } }, new SearchRecord { Key = 2, Vector = new float[] { 1, 0.5f, 0, 0 } }]);
        var euclidean = store.GetCollection<int, SearchRecord>("shared", Definition(DistanceFunction.EuclideanDistance));

        Assert.Equal(1, (await cosine.SearchAsync(new float[] { 1, 0, 0, 0 }, top: 1).SingleAsync()).Record.Key);
        Assert.Equal(2, (await euclidean.SearchAsync(new float[] { 1, 0, 0, 0 }, top: 1).SingleAsync()).Record.Key);
    }

    [Fact]
    public void Unsupported_distance_function_and_index_kind_are_rejected_when_the_collection_is_built()
    {
        using var store = new Vlm2VecVectorStore(databasePath: null);
        var badDistance = Definition("SomethingElse");
        var badIndex = Definition(DistanceFunction.CosineSimilarity);
        ((VectorStoreVectorProperty)badIndex.Properties[^1]).IndexKind = IndexKind.Hnsw;

        Assert.Contains("SomethingElse", Assert.Throws<NotSupportedException>(() => store.GetCollection<int, SearchRecord>("x", badDistance)).Message, StringComparison.Ordinal);
        Assert.Contains(IndexKind.Hnsw, Assert.Throws<NotSupportedException>(() => store.GetCollection<int, SearchRecord>("x", badIndex)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cosine_of_a_zero_vector_is_zero_not_NaN()
    {
        using var store = new Vlm2VecVectorStore(databasePath: null);
        var collection = store.GetCollection<int, SearchRecord>("zero", Definition(DistanceFunction.CosineSimilarity));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([new SearchRecord { Key = 1, Vector = new float[4] }, new SearchRecord { Key = 2, Vector = new float[] { 0, -1, 0, 0 } }]);

        var results = await collection.SearchAsync(new float[] { 1, 0, 0, 0 }, top: 2).ToListAsync();

        Assert.Equal([0.0, 0.0], results.Select(r => r.Score!.Value));
        Assert.Equal([1, 2], results.Select(r => r.Record.Key));
    }

    private static VectorStoreCollectionDefinition Definition(string distanceFunction) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(SearchRecord.Key), typeof(int)),
            new VectorStoreDataProperty(nameof(SearchRecord.Int), typeof(int)),
            new VectorStoreVectorProperty(nameof(SearchRecord.Vector), typeof(ReadOnlyMemory<float>), dimensions: 4) { DistanceFunction = distanceFunction },
        ],
    };

    public sealed class SearchRecord
    {
        public int Key { get; set; }

        public int Int { get; set; }

        public ReadOnlyMemory<float> Vector { get; set; }
    }
}
