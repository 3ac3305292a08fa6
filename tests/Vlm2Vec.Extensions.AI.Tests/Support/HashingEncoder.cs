using System.Collections.Concurrent;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Extensions.AI.Tests.Support;

/// <summary>
/// A deterministic stand-in for a VLM2Vec model that really consumes the <see cref="CollatedBatch"/> the real
/// preprocessing produced (real tokenizer, real image processor): each row's vector is a bag of hashed token ids (text
/// tokens that share ids share directions, so overlapping wording scores higher) plus a strong image term hashed from the
/// row's patch values, then L2-normalised. The same input gives the same vector in any batch; it checks the batch's
/// shape contract and records every batch it sees.
/// </summary>
internal sealed class HashingEncoder : IVlm2VecEncoder
{
    public const int Dimension = 256;

    public HashingEncoder(Vlm2VecPreprocessor preprocessor, string modelId = "hashing-test-model")
    {
        Preprocessor = preprocessor;
        Info = new Vlm2VecModelInfo { ModelId = modelId, Dimension = Dimension, Engine = "hashing-test" };
    }

    public Vlm2VecModelInfo Info { get; }

    public Vlm2VecPreprocessor Preprocessor { get; }

    /// <summary>Every batch encoded, in order.</summary>
    public ConcurrentQueue<CollatedBatch> Batches { get; } = new();

    /// <summary>Rows encoded over all batches.</summary>
    public int RowsEncoded => Batches.Sum(b => b.BatchSize);

    /// <summary>Called before each batch (to cancel a call midway, for instance).</summary>
    public Action? BeforeBatch { get; set; }

    public bool Disposed { get; private set; }

    public Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
    {
        BeforeBatch?.Invoke();
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Disposed, this);
        CheckShape(batch);
        Batches.Enqueue(batch);
        var vectors = new float[batch.BatchSize][];
        var patchCursor = 0;
        var imageCursor = 0;
        var imageTokenId = Preprocessor.Config.ImageTokenId;
        for (var row = 0; row < batch.BatchSize; row++)
        {
            var text = new double[Dimension];
            for (var col = 0; col < batch.SequenceLength; col++)
            {
                var cell = row * batch.SequenceLength + col;
                if (batch.AttentionMask[cell] == 1 && batch.InputIds[cell] != imageTokenId)
                {
                    AddHashed(text, (ulong)batch.InputIds[cell], 1.0);
                }
            }

            var image = new double[Dimension];
            for (var k = 0; k < batch.ImagesPerRow[row]; k++, imageCursor++)
            {
                var patches = (int)(batch.ImageGridThw[imageCursor * 3] * batch.ImageGridThw[imageCursor * 3 + 1] * batch.ImageGridThw[imageCursor * 3 + 2]);
                for (var p = 0; p < patches; p++, patchCursor++)
                {
                    var values = batch.PixelValues.AsSpan(patchCursor * batch.PatchRowLength, batch.PatchRowLength);
                    var mean = 0.0;
                    foreach (var v in values)
                    {
                        mean += v;
                    }

                    mean /= values.Length;
                    var bin = (ulong)Math.Clamp((int)Math.Floor((mean + 2.5) * 4), 0, 31);
                    AddHashed(image, 0x9E3779B97F4A7C15UL ^ ((ulong)p << 8) ^ bin, 1.0);
                }
            }

            // The image term dominates (3x the text term's norm), as pixels dominate an image input's meaning.
            var vector = new double[Dimension];
            var textNorm = Norm(text);
            var imageNorm = Norm(image);
            for (var d = 0; d < Dimension; d++)
            {
                vector[d] = (textNorm > 0 ? text[d] / textNorm : 0) + (imageNorm > 0 ? 3 * image[d] / imageNorm : 0);
            }

            var norm = Norm(vector);
            vectors[row] = vector.Select(v => (float)(v / norm)).ToArray();
        }

        return Task.FromResult(vectors);
    }

    public void Dispose() => Disposed = true;

    private static void AddHashed(double[] vector, ulong seed, double weight)
    {
        var state = seed * 0xD1B54A32D192ED03UL + 0x2545F4914F6CDD1DUL;
        for (var d = 0; d < vector.Length; d++)
        {
            // splitmix64
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            vector[d] += weight * (((z >> 11) * (1.0 / (1UL << 53))) * 2 - 1);
        }
    }

    private static double Norm(double[] vector) => Math.Sqrt(vector.Sum(v => v * v));

    private void CheckShape(CollatedBatch batch)
    {
        var cells = batch.BatchSize * batch.SequenceLength;
        Assert.Equal(cells, batch.InputIds.Length);
        Assert.Equal(cells, batch.AttentionMask.Length);
        Assert.Equal(batch.BatchSize, batch.ImagesPerRow.Length);
        Assert.Equal(batch.ImagesPerRow.Sum(), batch.ImageCount);
        Assert.Equal(batch.TotalPatches * batch.PatchRowLength, batch.PixelValues.Length);
    }
}
