using Vlm2Vec.OnnxRuntime.Tests.Support;

namespace Vlm2Vec.OnnxRuntime.Tests;

/// <summary><see cref="OnnxRuntimeEncoderFactory"/>: what it opens, device strings, and that it opens bundles as the encoder does.</summary>
[Collection(ExportedBundlesCollection.Name)]
public sealed class EncoderFactoryTests(ExportedBundles bundles)
{
    [Fact]
    public void Opens_bundles_only()
    {
        var factory = new OnnxRuntimeEncoderFactory();
        Assert.Equal("onnxruntime", factory.Engine);
        Assert.True(factory.CanOpen(bundles.Get("tiny-qwen2vl-tied")));
        Assert.False(factory.CanOpen(Path.GetTempPath()));
        Assert.False(factory.CanOpen(Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"))));
        Assert.False(factory.CanOpen(string.Empty));
    }

    [Theory]
    [InlineData(null, OnnxExecutionProvider.Cpu, 0, ExecutionProviderFallback.Fail)]
    [InlineData("cpu", OnnxExecutionProvider.Cpu, 0, ExecutionProviderFallback.Fail)]
    [InlineData("CUDA", OnnxExecutionProvider.Cuda, 0, ExecutionProviderFallback.Fail)]
    [InlineData("cuda:2", OnnxExecutionProvider.Cuda, 2, ExecutionProviderFallback.Fail)]
    [InlineData("tensorrt:1", OnnxExecutionProvider.TensorRt, 1, ExecutionProviderFallback.Fail)]
    [InlineData("auto", OnnxExecutionProvider.Cuda, 0, ExecutionProviderFallback.UseCpu)]
    public void Device_strings_map_to_providers(string? device, OnnxExecutionProvider provider, int id, ExecutionProviderFallback fallback)
    {
        Assert.Equal((provider, id, fallback), OnnxRuntimeEncoderFactory.ParseDevice(device));
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("cpu:1")]
    public void Unknown_devices_are_refused_with_the_accepted_forms(string device)
    {
        var ex = Assert.Throws<NotSupportedException>(() => OnnxRuntimeEncoderFactory.ParseDevice(device));
        Assert.Contains($"Device '{device}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_gives_the_encoder_the_bundle_gives()
    {
        var folder = bundles.Get("tiny-qwen2vl-tied");
        var reference = ReferenceCases.Case("tiny-qwen2vl-tied", "vlm2vec_image_mixed");
        var batch = ReferenceCases.Batch(reference, 276);
        using var direct = OnnxVlm2VecEncoder.FromBundle(folder);
        using var viaFactory = new OnnxRuntimeEncoderFactory(new OnnxVlm2VecEncoderOptions { IntraOpThreads = 1 }).Create(new Vlm2VecEncoderOptions { ModelPath = folder, Device = "auto" });

        Assert.Equal("onnxruntime-cpu", viaFactory.Info.Engine); // "auto" falls back to the CPU on a machine without CUDA 13
        var a = await direct.EncodeAsync(batch);
        var b = await viaFactory.EncodeAsync(batch);
        Assert.Equal(a.Length, b.Length);
        for (var row = 0; row < a.Length; row++)
        {
            Assert.True(Numerics.MaxAbs(a[row], b[row]) <= 1e-5);
        }
    }

    [Fact]
    public void A_folder_without_a_bundle_is_a_model_format_error()
    {
        var empty = Directory.CreateTempSubdirectory("vlm2vec-factory-").FullName;
        try
        {
            Assert.Throws<ModelFormatException>(() => new OnnxRuntimeEncoderFactory().Create(new Vlm2VecEncoderOptions { ModelPath = empty }));
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }
}
