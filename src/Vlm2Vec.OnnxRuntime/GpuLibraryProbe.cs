using System.Runtime.InteropServices;

namespace Vlm2Vec.OnnxRuntime;

/// <summary>
/// Names the NVIDIA libraries a GPU provider needs that cannot be loaded, to turn ONNX Runtime's generic "Failed to load
/// shared library" into a reason an operator can act on. ONNX Runtime prints the details to stderr only.
/// </summary>
internal static class GpuLibraryProbe
{
    // What libonnxruntime_providers_cuda.so / _tensorrt.so of Microsoft.ML.OnnxRuntime.Gpu 1.31 link against (ldd),
    // plus cuDNN, which the CUDA provider loads at run time.
    private static readonly string[] CudaLibraries = ["libcuda.so.1", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10", "libcudnn.so.9"];
    private static readonly string[] TensorRtLibraries = ["libnvinfer.so.10", "libnvonnxparser.so.10"];

    /// <summary>The libraries of <paramref name="provider"/> that do not load here (Linux only; empty elsewhere).</summary>
    public static IReadOnlyList<string> MissingLibraries(OnnxExecutionProvider provider)
    {
        if (!OperatingSystem.IsLinux() || provider == OnnxExecutionProvider.Cpu)
        {
            return [];
        }

        var missing = new List<string>();
        var names = provider == OnnxExecutionProvider.TensorRt ? [.. CudaLibraries, .. TensorRtLibraries] : CudaLibraries;
        foreach (var name in names)
        {
            if (NativeLibrary.TryLoad(name, out var handle))
            {
                NativeLibrary.Free(handle);
            }
            else
            {
                missing.Add(name);
            }
        }

        return missing;
    }
}
