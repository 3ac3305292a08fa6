namespace Vlm2Vec.TorchSharp.Export;

/// <summary>The weight and activation dtype of an exported bundle.</summary>
public enum Vlm2VecExportDType
{
    /// <summary>float32: for ONNX Runtime's CPU provider (exact to the reference within 1e-5 on embeddings).</summary>
    Float32,

    /// <summary>float16 with float32 where the reference computes in float32 (rotary angles, norm statistics, softmax,
    /// L2): for the CUDA / TensorRT providers. Runs on CPU too, but slower than float32 there.</summary>
    Float16,

    /// <summary>int8 weights for the projections (vision blocks, merger, decoder layers; per output channel) run as
    /// int8 × uint8 GEMMs with dynamically quantized activations; everything else float32. For ONNX Runtime's CPU
    /// provider on CPUs with AVX512-VNNI / AVX-VNNI: about a quarter of the float32 weights and faster projections, at an
    /// embedding cosine of about 0.99 to the float32 bundle (see Vlm2Vec.OnnxRuntime's README).</summary>
    Int8,
}
