using System.Text.Json;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.ML.Tests.Support;

/// <summary>
/// A deterministic test encoder over the real Qwen2-VL preprocessing: each row's vector is a hash of its unpadded token
/// ids (in order) and of its images' pixel values, L2-normalised. It is batch-invariant by construction (padding and the
/// row's place in the batch do not matter), so batched and row-by-row results must agree exactly, and it counts its
/// calls so tests can see how rows were batched.
/// </summary>
public sealed class HashingEncoder : IVlm2VecEncoder
{
    private int _calls;
    private int _rows;

    public HashingEncoder(Vlm2VecPreprocessor preprocessor, int dimension, string? source = null)
    {
        Preprocessor = preprocessor;
        Info = new Vlm2VecModelInfo { ModelId = "hashing-test-model", Dimension = dimension, Engine = "hashing", Source = source };
    }

    public Vlm2VecModelInfo Info { get; }

    public Vlm2VecPreprocessor Preprocessor { get; }

    /// <summary>Encoder calls so far.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Rows encoded so far.</summary>
    public int Rows => Volatile.Read(ref _rows);

    public bool Disposed { get; private set; }

    public Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _rows, batch.BatchSize);
        var dimension = Info.Dimension;
        var result = new float[batch.BatchSize][];
        var image = 0;
        long patchOffset = 0;
        for (var row = 0; row < batch.BatchSize; row++)
        {
            var vector = new float[dimension];
            ulong hash = 1469598103934665603UL;
            var kept = 0;
            for (var t = 0; t < batch.SequenceLength; t++)
            {
                var cell = (row * batch.SequenceLength) + t;
                if (batch.AttentionMask[cell] == 0)
                {
                    continue;
                }

                hash = (hash ^ (ulong)batch.InputIds[cell]) * 1099511628211UL;
                vector[(int)(hash % (ulong)dimension)] += 1f + (kept++ % 3);
            }

            for (var i = 0; i < batch.ImagesPerRow[row]; i++, image++)
            {
                var patches = batch.ImageGridThw[3 * image] * batch.ImageGridThw[(3 * image) + 1] * batch.ImageGridThw[(3 * image) + 2];
                double sum = 0;
                var span = batch.PixelValues.AsSpan((int)(patchOffset * batch.PatchRowLength), (int)(patches * batch.PatchRowLength));
                for (var k = 0; k < span.Length; k += 7)
                {
                    sum += span[k] * ((k % 13) + 1);
                }

                patchOffset += patches;
                var bucket = (int)((ulong)BitConverter.DoubleToInt64Bits(sum) % (ulong)dimension);
                vector[bucket] += 5f;
                vector[(bucket + 1) % dimension] += (float)Math.Abs(sum % 7);
            }

            var norm = MathF.Sqrt(vector.Sum(v => v * v));
            for (var k = 0; k < dimension; k++)
            {
                vector[k] /= norm;
            }

            result[row] = vector;
        }

        return Task.FromResult(result);
    }

    public void Dispose() => Disposed = true;

    /// <summary>Writes a model folder this encoder's factory opens: the real tokenizer files plus its settings file.</summary>
    public static void WriteModelFolder(string folder, int dimension)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json", "config.json" })
        {
            File.Copy(TestSupport.SharedData.Path("tokenizer", "qwen2-vl", file), Path.Combine(folder, file), overwrite: true);
        }

        // No config.json-based engine may claim this folder: the settings file names the hashing engine.
        File.WriteAllText(Path.Combine(folder, HashingEncoderFactory.SettingsFile), JsonSerializer.Serialize(new { dimension }));
    }
}
