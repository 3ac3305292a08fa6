using System.Collections.Concurrent;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Facade;

/// <summary>
/// An encoder for facade tests. It checks every batch it receives against the collation contract and returns, per row,
/// a deterministic L2-normalised vector computed from that row's real token ids and image grids, so that the same input
/// gives the same vector whatever batch it lands in.
/// </summary>
internal sealed class FakeEncoder : IVlm2VecEncoder
{
    public const int Dimension = 8;

    public FakeEncoder(Vlm2VecPreprocessor preprocessor)
    {
        Preprocessor = preprocessor;
        Info = new Vlm2VecModelInfo { ModelId = "fake", Dimension = Dimension };
    }

    public Vlm2VecModelInfo Info { get; }

    public Vlm2VecPreprocessor Preprocessor { get; }

    public ConcurrentQueue<CollatedBatch> Batches { get; } = new();

    /// <summary>A token id that makes any batch containing it fail (a "poison" row).</summary>
    public int? PoisonTokenId { get; init; }

    /// <summary>Called before each batch is encoded (to cancel, for instance).</summary>
    public Action<int>? BeforeBatch { get; init; }

    /// <summary>Return one vector fewer than asked (a broken encoder).</summary>
    public bool DropLastVector { get; init; }

    public Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
    {
        BeforeBatch?.Invoke(Batches.Count);
        cancellationToken.ThrowIfCancellationRequested();
        Batches.Enqueue(batch);
        CheckContract(batch);

        var vectors = new float[DropLastVector ? batch.BatchSize - 1 : batch.BatchSize][];
        var gridCursor = 0;
        for (var row = 0; row < batch.BatchSize; row++)
        {
            var vector = new double[Dimension];
            var position = 0;
            for (var col = 0; col < batch.SequenceLength; col++)
            {
                var cell = row * batch.SequenceLength + col;
                if (batch.AttentionMask[cell] == 0)
                {
                    continue;
                }

                var id = batch.InputIds[cell];
                if (id == PoisonTokenId)
                {
                    throw new InvalidOperationException("Poisoned row (test).");
                }

                for (var k = 0; k < Dimension; k++)
                {
                    vector[k] += ((id * (k + 3)) + position * (k + 1)) % 101;
                }

                position++;
            }

            for (var image = 0; image < batch.ImagesPerRow[row]; image++, gridCursor++)
            {
                vector[0] += batch.ImageGridThw[gridCursor * 3 + 1] * 7;
                vector[1] += batch.ImageGridThw[gridCursor * 3 + 2] * 5;
            }

            if (row < vectors.Length)
            {
                var norm = Math.Sqrt(vector.Sum(v => v * v));
                vectors[row] = vector.Select(v => (float)(v / norm)).ToArray();
            }
        }

        return Task.FromResult(vectors);
    }

    public void Dispose()
    {
    }

    private void CheckContract(CollatedBatch batch)
    {
        var cells = batch.BatchSize * batch.SequenceLength;
        Assert.Equal(cells, batch.InputIds.Length);
        Assert.Equal(cells, batch.AttentionMask.Length);
        Assert.Equal(cells, batch.ImageTokenMask.Length);
        Assert.Equal(3 * cells, batch.PositionIds.Length);
        Assert.Equal(batch.BatchSize, batch.PooledIndex.Length);
        Assert.Equal(batch.ImagesPerRow.Sum(), batch.ImageCount);
        var imageId = Preprocessor.Config.ImageTokenId;
        var expectedImageTokens = 0L;
        for (var i = 0; i < batch.ImageCount; i++)
        {
            expectedImageTokens += batch.ImageGridThw[i * 3] * batch.ImageGridThw[i * 3 + 1] * batch.ImageGridThw[i * 3 + 2] / 4;
        }

        Assert.Equal(expectedImageTokens, batch.ImageTokenMask.Sum());
        for (var row = 0; row < batch.BatchSize; row++)
        {
            // Left padding: every row's pooled token is the last column and is real.
            Assert.Equal(batch.SequenceLength - 1, batch.PooledIndex[row]);
            Assert.Equal(1, batch.AttentionMask[row * batch.SequenceLength + batch.SequenceLength - 1]);
            for (var col = 0; col < batch.SequenceLength; col++)
            {
                var cell = row * batch.SequenceLength + col;
                if (batch.ImageTokenMask[cell] == 1)
                {
                    Assert.Equal(imageId, batch.InputIds[cell]);
                }
            }
        }
    }
}
