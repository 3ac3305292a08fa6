using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Evaluation;

/// <summary>
/// Base of the evaluation test encoders. It really consumes each <see cref="CollatedBatch"/>: per row it reads the real
/// (unpadded) token ids and the row's own image patches, and turns them into a signature string; subclasses map
/// signatures to vectors. The same input therefore gets the same vector in any batch, and different inputs differ.
/// It counts the rows it encoded.
/// </summary>
internal abstract class SignatureEncoder : IVlm2VecEncoder
{
    private int _rows;

    protected SignatureEncoder(Vlm2VecPreprocessor preprocessor, int dimension, string modelId)
    {
        Preprocessor = preprocessor;
        Info = new Vlm2VecModelInfo { ModelId = modelId, Dimension = dimension, Engine = "test" };
    }

    public Vlm2VecModelInfo Info { get; }

    public Vlm2VecPreprocessor Preprocessor { get; }

    /// <summary>Rows encoded over the encoder's life.</summary>
    public int RowsEncoded => Volatile.Read(ref _rows);

    /// <summary>Every signature encoded, in order.</summary>
    public ConcurrentQueue<string> Encoded { get; } = new();

    /// <summary>Called before each batch (to cancel, for instance).</summary>
    public Action? BeforeBatch { get; init; }

    /// <summary>The signature of a prepared input, as the batch will show it.</summary>
    public static string Signature(PreparedInput input)
    {
        var sums = new double[input.Images.Count];
        for (var i = 0; i < sums.Length; i++)
        {
            sums[i] = Sum(input.Images[i].PixelValues);
        }

        return Signature(input.InputIds.Select(id => (long)id), sums);
    }

    public Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
    {
        BeforeBatch?.Invoke();
        cancellationToken.ThrowIfCancellationRequested();
        var vectors = new float[batch.BatchSize][];
        var image = 0;
        var patch = 0;
        for (var row = 0; row < batch.BatchSize; row++)
        {
            var ids = new List<long>();
            for (var col = 0; col < batch.SequenceLength; col++)
            {
                var cell = row * batch.SequenceLength + col;
                if (batch.AttentionMask[cell] == 1)
                {
                    ids.Add(batch.InputIds[cell]);
                }
            }

            var sums = new double[batch.ImagesPerRow[row]];
            for (var k = 0; k < sums.Length; k++, image++)
            {
                var patches = (int)(batch.ImageGridThw[image * 3] * batch.ImageGridThw[image * 3 + 1] * batch.ImageGridThw[image * 3 + 2]);
                sums[k] = Sum(batch.PixelValues.AsSpan(patch * batch.PatchRowLength, patches * batch.PatchRowLength));
                patch += patches;
            }

            var signature = Signature(ids, sums);
            Encoded.Enqueue(signature);
            vectors[row] = VectorFor(signature);
        }

        Interlocked.Add(ref _rows, batch.BatchSize);
        return Task.FromResult(vectors);
    }

    public void Dispose()
    {
    }

    protected abstract float[] VectorFor(string signature);

    protected static float[] Normalised(double[] values)
    {
        var norm = Math.Sqrt(values.Sum(v => v * v));
        return values.Select(v => (float)(v / norm)).ToArray();
    }

    private static string Signature(IEnumerable<long> ids, double[] imageSums)
    {
        var text = new StringBuilder();
        text.AppendJoin(',', ids).Append('|');
        text.AppendJoin(',', imageSums.Select(s => s.ToString("R", CultureInfo.InvariantCulture)));
        return text.ToString();
    }

    private static double Sum(ReadOnlySpan<float> values)
    {
        var sum = 0.0;
        foreach (var v in values)
        {
            sum += v;
        }

        return sum;
    }
}
