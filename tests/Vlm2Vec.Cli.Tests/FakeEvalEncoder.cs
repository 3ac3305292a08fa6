using System.Security.Cryptography;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

/// <summary>
/// A deterministic encoder for the eval verb's tests, on the real Qwen2-VL tokenizer and image processor (with a small
/// pixel budget so that images stay cheap): each row's vector is seeded by its real token ids and its image patches, so
/// identical inputs embed identically and different ones differ. It counts the rows it encoded.
/// </summary>
internal sealed class FakeEvalEncoder : IVlm2VecEncoder
{
    private static readonly Lazy<Vlm2VecPreprocessor> SharedPreprocessor = new(() => Vlm2VecPreprocessor.FromFolder(
        SharedData.Qwen2VlTokenizerFolder,
        new PreprocessorOptions { ImageProcessor = new Qwen2VlImageProcessorOptions { MinPixels = 56 * 56, MaxPixels = 56 * 56 * 4 } }));

    private int _rows;

    public FakeEvalEncoder(string modelId = "test/fake-eval")
    {
        Info = new Vlm2VecModelInfo { ModelId = modelId, Dimension = 8, Engine = "test" };
    }

    public Vlm2VecModelInfo Info { get; }

    public Vlm2VecPreprocessor Preprocessor => SharedPreprocessor.Value;

    public int RowsEncoded => Volatile.Read(ref _rows);

    public bool Disposed { get; private set; }

    public Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var vectors = new float[batch.BatchSize][];
        var patch = 0;
        var image = 0;
        for (var row = 0; row < batch.BatchSize; row++)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            for (var col = 0; col < batch.SequenceLength; col++)
            {
                var cell = row * batch.SequenceLength + col;
                if (batch.AttentionMask[cell] == 1)
                {
                    hash.AppendData(BitConverter.GetBytes(batch.InputIds[cell]));
                }
            }

            for (var k = 0; k < batch.ImagesPerRow[row]; k++, image++)
            {
                var patches = (int)(batch.ImageGridThw[image * 3] * batch.ImageGridThw[image * 3 + 1] * batch.ImageGridThw[image * 3 + 2]);
                var pixels = batch.PixelValues.AsSpan(patch * batch.PatchRowLength, patches * batch.PatchRowLength);
                hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels));
                patch += patches;
            }

            var random = new Random(BitConverter.ToInt32(hash.GetHashAndReset(), 0));
            var values = Enumerable.Range(0, Info.Dimension).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var norm = Math.Sqrt(values.Sum(v => v * v));
            vectors[row] = values.Select(v => (float)(v / norm)).ToArray();
        }

        Interlocked.Add(ref _rows, batch.BatchSize);
        return Task.FromResult(vectors);
    }

    public void Dispose() => Disposed = true;
}
