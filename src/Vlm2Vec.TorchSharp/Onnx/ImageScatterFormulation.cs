namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>How <see cref="OnnxBlocks.ScatterImageFeatures"/> writes vision features into image-token rows.</summary>
internal enum ImageScatterFormulation
{
    /// <summary><c>ScatterND</c> at <c>NonZero(input_ids == image_token_id)</c> (row-major = HF's masked_scatter order;
    /// a count mismatch fails loudly). The default.</summary>
    NonZeroScatterND,

    /// <summary><c>Where(mask, Gather(features ⧺ 0, CumSum(mask) − 1), embeds)</c>.</summary>
    CumSumGatherWhere,
}
