using Microsoft.Extensions.Logging;
using Vlm2Vec.OnnxRuntime.Tests.Support;
using Vlm2Vec.TorchSharp.Export;
using Xunit.Abstractions;

namespace Vlm2Vec.OnnxRuntime.Tests;

/// <summary>
/// Provider selection. On a machine without CUDA, asking for CUDA falls back to CPU with a logged reason, or fails with
/// <see cref="ExecutionProviderException"/> under the fail policy. The <see cref="GpuFactAttribute"/> tests need a GPU
/// (VLM2VEC_GPU_TESTS=1) and are reported as skipped elsewhere.
/// </summary>
[Collection(ExportedBundlesCollection.Name)]
public sealed class ExecutionProviderTests(ExportedBundles bundles, ITestOutputHelper output)
{
    [NoGpuFact]
    public async Task Cuda_on_a_machine_without_it_falls_back_to_CPU_with_the_reason_logged()
    {
        var logger = new CapturingLogger();
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"),
            new OnnxVlm2VecEncoderOptions { ExecutionProvider = OnnxExecutionProvider.Cuda, Logger = logger });

        Assert.Equal(OnnxExecutionProvider.Cpu, encoder.ExecutionProvider);
        Assert.Equal("onnxruntime-cpu", encoder.Info.Engine);
        Assert.False(string.IsNullOrWhiteSpace(encoder.ExecutionProviderFallbackReason));
        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains("The Cuda execution provider could not be used", warning.Message, StringComparison.Ordinal);
        Assert.Contains(encoder.ExecutionProviderFallbackReason!, warning.Message, StringComparison.Ordinal);
        output.WriteLine(warning.Message);

        // And the CPU fallback computes the right numbers.
        var folder = ReferenceCases.Case("tiny-qwen2vl-tied", "vlm2vec_image_mixed");
        var actual = await encoder.EncodeAsync(ReferenceCases.Batch(folder, 276));
        Assert.True(Numerics.MaxAbs(ReferenceCases.Floats(folder, "embeddings.npy").Data, actual) <= 1e-5);
    }

    [NoGpuFact]
    public void Cuda_with_the_fail_policy_throws_with_the_reason()
    {
        var error = Assert.Throws<ExecutionProviderException>(() => OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"),
            new OnnxVlm2VecEncoderOptions { ExecutionProvider = OnnxExecutionProvider.Cuda, Fallback = ExecutionProviderFallback.Fail, DeviceId = 0 }));

        Assert.Equal(OnnxExecutionProvider.Cuda, error.Provider);
        Assert.Contains("The Cuda execution provider (device 0) could not run", error.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA 13", error.Message, StringComparison.Ordinal);
        Assert.Contains("not loadable here: libcuda.so.1", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.InnerException);
        output.WriteLine(error.Message);
    }

    [NoGpuFact]
    public void TensorRt_falls_back_the_same_way()
    {
        var logger = new CapturingLogger();
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"),
            new OnnxVlm2VecEncoderOptions { ExecutionProvider = OnnxExecutionProvider.TensorRt, Logger = logger });
        Assert.Equal(OnnxExecutionProvider.Cpu, encoder.ExecutionProvider);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("TensorRt", StringComparison.Ordinal));
    }

    [Fact]
    public void A_float16_bundle_on_CPU_logs_that_float32_is_the_CPU_format()
    {
        var logger = new CapturingLogger();
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied", Vlm2VecExportDType.Float16), new OnnxVlm2VecEncoderOptions { Logger = logger });
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("float16 weights", StringComparison.Ordinal));
    }

    [GpuFact]
    public async Task Float16_bundle_on_CUDA_keeps_cosine_0_999_with_HF()
    {
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied", Vlm2VecExportDType.Float16),
            new OnnxVlm2VecEncoderOptions { ExecutionProvider = OnnxExecutionProvider.Cuda, Fallback = ExecutionProviderFallback.Fail });
        Assert.Equal("onnxruntime-cuda", encoder.Info.Engine);
        foreach (var caseName in new[] { "vlm2vec_image_mixed", "chat_mrope_left_padded", "right_padded_mixed", "text_left_padded" })
        {
            var folder = ReferenceCases.Case("tiny-qwen2vl-tied", caseName);
            var actual = await encoder.EncodeAsync(ReferenceCases.Batch(folder, 276));
            var cosine = Numerics.MinCosine(ReferenceCases.Floats(folder, "embeddings.npy").Data, actual);
            Assert.True(cosine >= 0.999, $"{caseName}: CUDA float16 minimum cosine {cosine:F6}");
            output.WriteLine($"{caseName}: CUDA float16 1 - min cosine {1 - cosine:E1}");
        }
    }

    [GpuFact]
    public async Task Float32_bundle_on_CUDA_matches_HF_within_1e_4()
    {
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"),
            new OnnxVlm2VecEncoderOptions { ExecutionProvider = OnnxExecutionProvider.Cuda, Fallback = ExecutionProviderFallback.Fail });
        var folder = ReferenceCases.Case("tiny-qwen2vl-tied", "chat_mrope_left_padded");
        var actual = await encoder.EncodeAsync(ReferenceCases.Batch(folder, 276));
        var error = Numerics.MaxAbs(ReferenceCases.Floats(folder, "embeddings.npy").Data, actual);
        Assert.True(error <= 1e-4, $"CUDA float32 max abs error {error:E3}");
        output.WriteLine($"CUDA float32 embeddings max abs error {error:E2}");
    }
}
