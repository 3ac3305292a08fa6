using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>Writers and readers at the same time, and cancellation: searches never see half a batch, and a cancelled upsert writes nothing.</summary>
public sealed class ConcurrencyTests
{
    private const int BatchSize = 50;

    [Fact]
    public async Task Concurrent_batches_and_searches_see_whole_batches_only()
    {
        using var test = new StoreUnderTest(persisted: true);
        var collection = test.Store.GetCollection<string, Row>("rows");
        await collection.EnsureCollectionExistsAsync();
        using var stop = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            for (var batch = 0; batch < 15; batch++)
            {
                // Every record of a batch has the same vector and batch id, so a search sees the whole batch or none of it.
                var id = (writer * 100) + batch;
                var vector = new float[] { 1, id, 0 };
                await collection.UpsertAsync(Enumerable.Range(0, BatchSize).Select(i => new Row { Key = $"{id}-{i}", Batch = id, Vector = vector }));
            }
        })).ToArray();

        var torn = 0;
        var searches = 0;
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var results = await collection.GetAsync(r => r.Batch >= 0, top: 100_000).ToListAsync();
                foreach (var group in results.GroupBy(r => r.Batch))
                {
                    if (group.Count() != BatchSize)
                    {
                        Interlocked.Increment(ref torn);
                    }
                }

                await collection.SearchAsync(new float[] { 1, 5, 0 }, top: 10).ToListAsync();
                Interlocked.Increment(ref searches);
            }
        })).ToArray();

        await Task.WhenAll(writers);
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(0, torn);
        Assert.True(searches > 0);
        Assert.Equal(4 * 15 * BatchSize, await Collection(test.Reopen()).GetAsync(r => true, top: 100_000).CountAsync());
    }

    [Fact]
    public async Task A_cancelled_upsert_writes_nothing()
    {
        using var test = new StoreUnderTest(persisted: true);
        var collection = test.Store.GetCollection<string, Row>("rows");
        await collection.EnsureCollectionExistsAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => collection.UpsertAsync([new Row { Key = "a", Vector = new float[] { 1, 0, 0 } }], cancelled.Token));

        Assert.Null(await Collection(test.Reopen()).GetAsync("a"));
    }

    private static VectorStoreCollection<string, Row> Collection(Vlm2VecVectorStore store) => store.GetCollection<string, Row>("rows");

    public sealed class Row
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData]
        public int Batch { get; set; }

        [VectorStoreVector(3)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }
}
