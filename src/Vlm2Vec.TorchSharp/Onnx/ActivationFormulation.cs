namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>Whether an activation is written as one fused operator or as the plain op chain.</summary>
internal enum ActivationFormulation
{
    /// <summary>com.microsoft <c>QuickGelu</c> (QuickGELU with alpha 1.702; SiLU with alpha 1) or ai.onnx <c>Gelu</c>
    /// (opset 20+, exact erf). The default.</summary>
    Fused,

    /// <summary>Plain ops: <c>x·Sigmoid(αx)</c>; <c>x/2·(1 + Erf(x/√2))</c>.</summary>
    OpChain,
}
