using System.Collections.Concurrent;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Server.Tests.Fakes;

/// <summary>
/// A deterministic stand-in for a real encoder that genuinely consumes a <see cref="CollatedBatch"/>: each row's vector
/// is a hash of its real (unpadded) token ids with their positions and of its images' grids and patch values, then
/// L2-normalised. The same input gives the same vector in whatever batch and row it lands, so a test can compute the
/// expected vector offline. It checks the collation contract, can add latency (a fixed part per batch plus a part per
/// padded token cell, without using the CPU, like a GPU), and fails any batch holding <see cref="PoisonTokenId"/>.
/// Also compiled into the benchmarks.
/// </summary>
internal sealed class HashingEncoder : IVlm2VecEncoder
{
    public HashingEncoder(Vlm2VecPreprocessor preprocessor, int dimension = 64, string modelId = "vlm2vec-test")
    {
        Preprocessor = preprocessor;
        Info = new Vlm2VecModelInfo { ModelId = modelId, Dimension = dimension, Engine = "hashing-fake" };
    }

    public Vlm2VecModelInfo Info { get; }

    public Vlm2VecPreprocessor Preprocessor { get; }

    /// <summary>Latency of every batch.</summary>
    public TimeSpan BatchLatency { get; init; }

    /// <summary>Extra latency per padded token cell (rows × sequence length).</summary>
    public TimeSpan CellLatency { get; init; }

    /// <summary>A token id that makes any batch containing it fail (the "bad item").</summary>
    public long? PoisonTokenId { get; init; }

    /// <summary>Row counts of the batches encoded (in order).</summary>
    public ConcurrentQueue<(int Rows, int SequenceLength)> Batches { get; } = new();

    public bool Disposed { get; private set; }

    public async Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(Disposed, this);
        CheckContract(batch);
        var latency = BatchLatency + CellLatency * ((long)batch.BatchSize * batch.SequenceLength);
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        }

        Batches.Enqueue((batch.BatchSize, batch.SequenceLength));
        return Hash(batch, Info.Dimension, PoisonTokenId);
    }

    public void Dispose() => Disposed = true;

    /// <summary>The vectors of a batch (no latency, no bookkeeping).</summary>
    public static float[][] Hash(CollatedBatch batch, int dimension, long? poisonTokenId = null)
    {
        var vectors = new float[batch.BatchSize][];
        var image = 0;
        var patchRow = 0;
        var accumulator = new double[dimension];
        for (var row = 0; row < batch.BatchSize; row++)
        {
            Array.Clear(accumulator);
            var position = 0;
            for (var col = 0; col < batch.SequenceLength; col++)
            {
                var cell = row * batch.SequenceLength + col;
                if (batch.AttentionMask[cell] == 0)
                {
                    continue;
                }

                var id = batch.InputIds[cell];
                if (id == poisonTokenId)
                {
                    throw new InvalidOperationException($"Poisoned token {id} in row {row} (test).");
                }

                var mixed = Mix((ulong)id * 0x9E3779B97F4A7C15UL ^ (ulong)position);
                accumulator[(int)(mixed % (ulong)dimension)] += 1.0 + (mixed >> 40) / (double)(1UL << 24);
                position++;
            }

            for (var k = 0; k < batch.ImagesPerRow[row]; k++, image++)
            {
                var t = batch.ImageGridThw[image * 3];
                var h = batch.ImageGridThw[image * 3 + 1];
                var w = batch.ImageGridThw[image * 3 + 2];
                accumulator[0] += h * 0.5;
                accumulator[1 % dimension] += w * 0.5;
                var patches = (int)(t * h * w);
                var values = batch.PixelValues.AsSpan(patchRow * batch.PatchRowLength, patches * batch.PatchRowLength);
                for (var v = 0; v < values.Length; v += 97)
                {
                    accumulator[v % dimension] += values[v];
                }

                patchRow += patches;
            }

            var norm = 0.0;
            foreach (var value in accumulator)
            {
                norm += value * value;
            }

            norm = Math.Sqrt(norm);
            var vector = new float[dimension];
            for (var d = 0; d < dimension; d++)
            {
                vector[d] = (float)(accumulator[d] / norm);
            }

            vectors[row] = vector;
        }

        return vectors;
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        x ^= x >> 33;
        return x;
    }

    private void CheckContract(CollatedBatch batch)
    {
        var cells = batch.BatchSize * batch.SequenceLength;
        var imagesInRows = 0;
        foreach (var count in batch.ImagesPerRow)
        {
            imagesInRows += count;
        }

        if (batch.InputIds.Length != cells || batch.AttentionMask.Length != cells || batch.ImageTokenMask.Length != cells
            || batch.PositionIds.Length != 3 * cells || batch.PooledIndex.Length != batch.BatchSize || imagesInRows != batch.ImageCount)
        {
            throw new InvalidOperationException("The collated batch breaks the CollatedBatch contract (array sizes).");
        }

        var patches = 0L;
        for (var i = 0; i < batch.ImageCount; i++)
        {
            patches += batch.ImageGridThw[i * 3] * batch.ImageGridThw[i * 3 + 1] * batch.ImageGridThw[i * 3 + 2];
        }

        if (patches != batch.TotalPatches)
        {
            throw new InvalidOperationException($"The batch has {batch.TotalPatches} patch rows but its grids need {patches}.");
        }

        var imageTokenId = Preprocessor.Config.ImageTokenId;
        for (var cell = 0; cell < cells; cell++)
        {
            if (batch.ImageTokenMask[cell] == 1 && batch.InputIds[cell] != imageTokenId)
            {
                throw new InvalidOperationException("An image-token mask cell does not hold the image token.");
            }
        }
    }
}
