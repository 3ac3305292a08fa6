namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>How <see cref="OnnxBlocks.L2Normalize"/> normalises embeddings.</summary>
internal enum L2NormFormulation
{
    /// <summary><c>x / max(ReduceL2(x), 1e-12)</c> — torch's <c>F.normalize</c>, safe on zero vectors. The default.</summary>
    ReduceL2Clamp,

    /// <summary>ai.onnx <c>LpNormalization(p=2)</c>: no epsilon clamp.</summary>
    LpNormalization,
}
