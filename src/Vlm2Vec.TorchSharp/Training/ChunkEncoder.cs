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
    public static Tensor Encode(Qwen2VlForConditionalGeneration model, BatchCollator collator, IReadOnlyList<PreparedInput> rows)
    {
        var batch = collator.Collate(rows);
        long b = batch.BatchSize, l = batch.SequenceLength;
        using var scope = NewDisposeScope();
        var input = new Qwen2VlForwardInput
        {
            InputIds = tensor(batch.InputIds, [b, l]),
            AttentionMask = tensor(batch.AttentionMask, [b, l]),
            PositionIds = tensor(batch.PositionIds, [3, b, l]),
            ImageTokenMask = tensor(batch.ImageTokenMask, [b, l]),
            PixelValues = batch.ImageCount > 0 ? tensor(batch.PixelValues, [batch.TotalPatches, batch.PatchRowLength]) : null,
            ImageGridThw = batch.ImageCount > 0 ? tensor(batch.ImageGridThw, [batch.ImageCount, 3]) : null,
        };
        var output = model.forward(input);
        return output.Embeddings.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
