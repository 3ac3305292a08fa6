namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>How <see cref="OnnxBlocks.RmsNorm"/> writes RMSNorm (all are exact in float32; see Onnx/README.md).</summary>
internal enum RmsNormFormulation
{
    /// <summary>ORT's <c>SimplifiedLayerNormalization</c> (ai.onnx domain, ORT-registered; stash_type 1). The default.</summary>
    SimplifiedLayerNormalization,

    /// <summary>ai.onnx <c>RMSNormalization</c>, opset 23+.</summary>
    RmsNormalization,

    /// <summary>Plain ops: <c>Mul → ReduceMean → Add ε → Sqrt → Div → Mul w</c> (in float32 when the input is float16).</summary>
    OpChain,
}
