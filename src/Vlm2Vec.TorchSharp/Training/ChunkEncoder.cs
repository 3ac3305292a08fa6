using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Modeling;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// Collates prepared inputs and runs the model on them, returning the pooled, L2-normalised representations as float32
/// <c>(rows, hidden)</c> in the caller's dispose scope (with graph unless called under <c>no_grad</c>). The same
/// collator and forward as serving (<see cref="TorchSharpVlm2VecEncoder"/>).
/// </summary>
internal static class ChunkEncoder
{
    public static Tensor Encode(Qwen2VlForConditionalGeneration model, BatchCollator collator, IReadOnlyList<PreparedInput> rows) =>
        Encode(model, collator, rows, null, out _, captureImageFeatures: false);

    /// <summary>
    /// <see cref="Encode(Qwen2VlForConditionalGeneration, BatchCollator, IReadOnlyList{PreparedInput})"/> with the vision
    /// tower's output given (<paramref name="imageFeatures"/>, from an earlier call on the same rows) or captured
    /// (<paramref name="captureImageFeatures"/>: returned detached in <paramref name="capturedFeatures"/>, in the caller's
    /// scope; null when the rows have no image).
    /// </summary>
    public static Tensor Encode(
        Qwen2VlForConditionalGeneration model, BatchCollator collator, IReadOnlyList<PreparedInput> rows, Tensor? imageFeatures, out Tensor? capturedFeatures, bool captureImageFeatures)
    {
        var batch = collator.Collate(rows);
        long b = batch.BatchSize, l = batch.SequenceLength;
        using var scope = NewDisposeScope();
        Tensor? pixels = batch.ImageCount > 0 ? tensor(batch.PixelValues, [batch.TotalPatches, batch.PatchRowLength]) : null;
        Tensor? grid = batch.ImageCount > 0 ? tensor(batch.ImageGridThw, [batch.ImageCount, 3]) : null;
        capturedFeatures = null;
        if (captureImageFeatures && pixels is not null && imageFeatures is null)
        {
            using (no_grad())
            {
                imageFeatures = model.GetImageFeatures(pixels, grid!).detach();
            }

            capturedFeatures = imageFeatures;
        }

        var input = new Qwen2VlForwardInput
        {
            InputIds = tensor(batch.InputIds, [b, l]),
            AttentionMask = tensor(batch.AttentionMask, [b, l]),
            PositionIds = tensor(batch.PositionIds, [3, b, l]),
            ImageTokenMask = tensor(batch.ImageTokenMask, [b, l]),
            PixelValues = pixels,
            ImageGridThw = grid,
            ImageFeatures = imageFeatures,
        };
        var output = model.forward(input);
        capturedFeatures?.MoveToOuterDisposeScope();
        return output.Embeddings.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
