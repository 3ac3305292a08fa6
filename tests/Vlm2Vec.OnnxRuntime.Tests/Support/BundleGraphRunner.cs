using Microsoft.ML.OnnxRuntime;
using Vlm2Vec.Preprocessing;
using Names = Vlm2Vec.Vlm2VecBundleTensorNames;

namespace Vlm2Vec.OnnxRuntime.Tests.Support;

/// <summary>
/// Runs a bundle's two graphs directly (one image per vision run), to read intermediate outputs the encoder does not
/// return: the image features and, for bundles exported with diagnostics, every final-norm hidden state.
/// </summary>
internal sealed class BundleGraphRunner(string bundleFolder) : IDisposable
{
    private readonly InferenceSession _vision = new(Path.Combine(bundleFolder, "vision.onnx"));
    private readonly InferenceSession _text = new(Path.Combine(bundleFolder, "text.onnx"));

    public float[] ImageEmbeds(CollatedBatch batch, int hidden)
    {
        var features = new List<float>();
        var pixelOffset = 0;
        for (var image = 0; image < batch.ImageCount; image++)
        {
            int t = (int)batch.ImageGridThw[3 * image], h = (int)batch.ImageGridThw[(3 * image) + 1], w = (int)batch.ImageGridThw[(3 * image) + 2];
            var count = t * h * w * batch.PatchRowLength;
            using var pixels = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(batch.PixelValues, pixelOffset, count), [t, h * w, batch.PatchRowLength]);
            using var ids = OrtValue.CreateTensorValueFromMemory(VisionRunPlan.RotaryIds(h, w, 2), [h * w, 2]);
            using var outputs = _vision.Run(new RunOptions(), [Names.PixelValues, Names.RotaryPositionIds], [pixels, ids], [Names.ImageEmbeds]);
            features.AddRange(outputs[0].GetTensorDataAsSpan<float>().ToArray());
            pixelOffset += count;
        }

        Assert.Equal(0, features.Count % hidden);
        return [.. features];
    }

    public (float[] Embeddings, float[] LastHiddenState) Text(CollatedBatch batch, float[] imageEmbeds, int hidden)
    {
        long b = batch.BatchSize, l = batch.SequenceLength;
        using var ids = OrtValue.CreateTensorValueFromMemory(batch.InputIds, [b, l]);
        using var mask = OrtValue.CreateTensorValueFromMemory(batch.AttentionMask, [b, l]);
        using var positions = OrtValue.CreateTensorValueFromMemory(batch.PositionIds, [3, b, l]);
        using var imageMask = OrtValue.CreateTensorValueFromMemory(batch.ImageTokenMask, [b, l]);
        using var features = OrtValue.CreateTensorValueFromMemory(imageEmbeds.Length == 0 ? new float[1] : imageEmbeds, [imageEmbeds.Length / hidden, hidden]);
        using var outputs = _text.Run(
            new RunOptions(),
            [Names.InputIds, Names.AttentionMask, Names.PositionIds, Names.ImageTokenMask, Names.ImageEmbeds],
            [ids, mask, positions, imageMask, features],
            [Names.Embeddings, Names.LastHiddenState]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }

    public void Dispose()
    {
        _vision.Dispose();
        _text.Dispose();
    }
}
