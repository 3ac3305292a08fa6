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
        Qwen2VlForConditionalGeneration model, BatchCollator collator, IReadOnlyList<PreparedInput> rows, Tensor? imageFeatures, out Tensor? capturedFeatures, bool captureImageFeatures) =>
        Encode(model, collator.Collate(rows), imageFeatures, out capturedFeatures, captureImageFeatures);

    /// <summary>
    /// The same on a collated batch. With <paramref name="imageFeatures"/> given the batch's pixel values are not read (they
    /// may have been dropped, see <see cref="WithoutPixels"/>).
    /// </summary>
    public static Tensor Encode(
        Qwen2VlForConditionalGeneration model, CollatedBatch batch, Tensor? imageFeatures, out Tensor? capturedFeatures, bool captureImageFeatures)
    {
        long b = batch.BatchSize, l = batch.SequenceLength;
        using var scope = NewDisposeScope();
        Tensor? pixels = batch.ImageCount > 0 && imageFeatures is null ? tensor(batch.PixelValues, [batch.TotalPatches, batch.PatchRowLength]) : null;
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

    /// <summary>The batch without its pixel values (the largest part by far), for a re-run that is given the image features.</summary>
    public static CollatedBatch WithoutPixels(CollatedBatch batch) => new()
    {
        BatchSize = batch.BatchSize,
        SequenceLength = batch.SequenceLength,
        InputIds = batch.InputIds,
        AttentionMask = batch.AttentionMask,
        PositionIds = batch.PositionIds,
        ImageTokenMask = batch.ImageTokenMask,
        PixelValues = [],
        ImageGridThw = batch.ImageGridThw,
        ImagesPerRow = batch.ImagesPerRow,
        PooledIndex = batch.PooledIndex,
        Padding = batch.Padding,
        PatchRowLength = batch.PatchRowLength,
    };
}
