namespace Vlm2Vec.TorchSharp.Export;

/// <summary>The weight and activation dtype of an exported bundle.</summary>
public enum Vlm2VecExportDType
{
    /// <summary>float32: for ONNX Runtime's CPU provider (exact to the reference within 1e-5 on embeddings).</summary>
    Float32,

    /// <summary>float16 with float32 where the reference computes in float32 (rotary angles, norm statistics, softmax,
    /// L2): for the CUDA / TensorRT providers. Runs on CPU too, but slower than float32 there.</summary>
    Float16,
}
