namespace Vlm2Vec.OnnxRuntime;

/// <summary>Where ONNX Runtime runs the graphs.</summary>
public enum OnnxExecutionProvider
{
    /// <summary>The CPU provider (every platform; the default).</summary>
    Cpu,

    /// <summary>NVIDIA CUDA (needs the CUDA 13 runtime and cuDNN on the host; <c>Microsoft.ML.OnnxRuntime.Gpu</c> 1.31).</summary>
    Cuda,

    /// <summary>NVIDIA TensorRT, with CUDA for the nodes TensorRT does not take (needs TensorRT on the host as well).</summary>
    TensorRt,
}
