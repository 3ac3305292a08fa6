namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>How <see cref="OnnxBlocks.Attention"/> computes softmax attention with an additive bias.</summary>
internal enum AttentionFormulation
{
    /// <summary>com.microsoft <c>MultiHeadAttention</c> with <c>attention_bias</c>; grouped KV heads are repeated with
    /// <c>Expand</c> first. The default.</summary>
    MultiHeadAttention,

    /// <summary>ai.onnx <c>Attention</c> (opset 23+) with the additive mask and native grouped heads.</summary>
    OnnxAttention,

    /// <summary>Plain ops: <c>MatMul → Mul scale → Add bias → Softmax → MatMul</c>, grouped heads by broadcasting.</summary>
    MatMulSoftmax,

    /// <summary>com.microsoft <c>GroupQueryAttention</c> (causal, right-aligned valid keys) with <c>attention_bias</c>
    /// for the padding. Only for the decoder; see README for where it differs.</summary>
    GroupQueryAttention,
}
