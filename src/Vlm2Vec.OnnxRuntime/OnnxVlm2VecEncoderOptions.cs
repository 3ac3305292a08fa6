using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Vlm2Vec.OnnxRuntime;

/// <summary>How <see cref="OnnxVlm2VecEncoder"/> runs a bundle.</summary>
public sealed class OnnxVlm2VecEncoderOptions
{
    /// <summary>The execution provider (CPU by default).</summary>
    public OnnxExecutionProvider ExecutionProvider { get; init; } = OnnxExecutionProvider.Cpu;

    /// <summary>The GPU ordinal for CUDA / TensorRT.</summary>
    public int DeviceId { get; init; }

    /// <summary>What to do when the GPU provider cannot be used: fall back to CPU with a logged reason (default), or fail.</summary>
    public ExecutionProviderFallback Fallback { get; init; } = ExecutionProviderFallback.UseCpu;

    /// <summary>Threads one graph run may use on the CPU (0: ONNX Runtime's default, the physical cores).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads for running independent graph branches in parallel (0: ONNX Runtime's default). The graphs are
    /// sequential, so this rarely matters.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>ONNX Runtime's graph optimisation level (default: all, which the bundle's exactness was measured at).</summary>
    public GraphOptimizationLevel GraphOptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>Use ONNX Runtime's CPU memory arena (default on: reuses activation memory between runs).</summary>
    public bool EnableCpuMemoryArena { get; init; } = true;

    /// <summary>
    /// Let the intra-op worker threads spin after each parallel section instead of sleeping (ONNX Runtime's
    /// <c>session.intra_op.allow_spinning</c>; default off here, on in ONNX Runtime). The vision and text graphs are two
    /// sessions with a thread pool each, and an image runs one right after the other: the first session's workers, still
    /// spinning, then take cores from the second's. On the 2-core build machine that made an image at batch 1 1.3–1.7×
    /// slower than in a batch of 8 (float32 and int8 bundles alike); with spinning off batch 1 runs at batch 8's speed per
    /// image and batches of 8 are unchanged (src/Vlm2Vec.OnnxRuntime/README.md). An entry for the same key in
    /// <see cref="SessionConfigEntries"/> wins.
    /// </summary>
    public bool IntraOpSpinning { get; init; }

    /// <summary>
    /// Extra ONNX Runtime session config entries (<c>SessionOptions.AddSessionConfigEntry</c>), e.g.
    /// <c>session.x64quantprecision = 1</c> for int8 bundles on CPUs without VNNI.
    /// </summary>
    public IReadOnlyDictionary<string, string>? SessionConfigEntries { get; init; }

    /// <summary>
    /// Image patches per vision-graph run (a patch budget; default 4 096 = four 448×448 images: larger runs measured no faster and hold more memory). Images are run in
    /// groups of the same patch grid, in batch order; a group that would exceed the budget is split. An image larger
    /// than the budget runs alone.
    /// </summary>
    public int MaxPatchesPerVisionRun { get; init; } = 4_096;

    /// <summary>
    /// The preprocessing settings (prompt style, image budget, truncation). Unset values take the bundle's: the token
    /// limit and padding side from <c>vlm2vec.json</c>, the image processor from <c>preprocessor_config.json</c>.
    /// </summary>
    public PreprocessorOptions? Preprocessing { get; init; }

    /// <summary>How the bundle's files are checked at load.</summary>
    public Vlm2VecBundleOpenOptions? BundleChecks { get; init; }

    /// <summary>Where load decisions (provider fallback, dtype/provider mismatches) are logged.</summary>
    public ILogger? Logger { get; init; }
}
