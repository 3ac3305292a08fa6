namespace Vlm2Vec.OnnxRuntime.Tests.Support;

/// <summary>
/// A test that needs an NVIDIA GPU with the CUDA 13 runtime. It runs only when <c>VLM2VEC_GPU_TESTS=1</c>; otherwise it
/// is reported as <b>skipped</b> (never passed) with the reason. On a GPU machine set the variable: the test then fails
/// loudly if CUDA cannot be used.
/// </summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public GpuFactAttribute()
    {
        if (!GpuTests.Enabled)
        {
            Skip = "GPU-only: needs an NVIDIA GPU with CUDA 13 + cuDNN; run with VLM2VEC_GPU_TESTS=1 on such a machine.";
        }
    }
}

/// <summary>A test that checks behaviour on a machine without a usable GPU; skipped when <c>VLM2VEC_GPU_TESTS=1</c>.</summary>
public sealed class NoGpuFactAttribute : FactAttribute
{
    public NoGpuFactAttribute()
    {
        if (GpuTests.Enabled)
        {
            Skip = "CPU-only machine behaviour (CUDA must fail to load); skipped because VLM2VEC_GPU_TESTS=1 says a GPU is present.";
        }
    }
}

internal static class GpuTests
{
    public static bool Enabled => Environment.GetEnvironmentVariable("VLM2VEC_GPU_TESTS") == "1";
}
