using Onnx;
using Vlm2Vec.OnnxRuntime.Tests.Support;
using Vlm2Vec.TorchSharp.Export;
using Xunit.Abstractions;

namespace Vlm2Vec.OnnxRuntime.Tests;

/// <summary>
/// The int8 bundle (<see cref="Vlm2VecExportDType.Int8"/>): int8 projection weights run as DynamicQuantizeMatMul on
/// ORT's CPU provider, float32 graph inputs and outputs like the float32 bundle, embeddings close to HF's float32 ones,
/// and a clear refusal on GPU providers.
/// </summary>
[Collection(ExportedBundlesCollection.Name)]
public sealed class Int8BundleTests(ExportedBundles bundles, ITestOutputHelper output)
{
    /// <summary>
    /// The bound on the tiny random reference models: measured minimum 0.99910 over these cases (single_chat_image),
    /// so 0.998 leaves twice the measured loss as margin. Random weights have no outlier channels; see
    /// Vlm2Vec.OnnxRuntime's README for the mid-size figures.
    /// </summary>
    private const double MinimumCosine = 0.998;

    public static TheoryData<string, string, string> Cases => new()
    {
        { "tiny-qwen2vl-tied", "tiny-qwen2vl-tied", "text_left_padded" },
        { "tiny-qwen2vl-tied", "tiny-qwen2vl-tied", "vlm2vec_image_mixed" },
        { "tiny-qwen2vl-tied", "tiny-qwen2vl-tied", "single_chat_image" },
        { "tiny-qwen2vl-untied-sharded", "tiny-qwen2vl-untied", "chat_two_images_left_padded" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Int8_bundle_keeps_cosine_0_998_with_HF_float32_and_the_float32_bundle(string modelFolder, string caseModel, string caseName)
    {
        var folder = ReferenceCases.Case(caseModel, caseName);
        using var int8 = OnnxVlm2VecEncoder.FromBundle(bundles.Get(modelFolder, Vlm2VecExportDType.Int8));
        using var fp32 = OnnxVlm2VecEncoder.FromBundle(bundles.Get(modelFolder));
        Assert.Equal("int8", int8.Info.DType);
        var batch = ReferenceCases.Batch(folder, int8.Bundle.Config.ImageTokenId);
        var (expected, _) = ReferenceCases.Floats(folder, "embeddings.npy");

        var actual = await int8.EncodeAsync(batch);
        var bundleFloat32 = await fp32.EncodeAsync(batch);

        var cosine = Numerics.MinCosine(expected, actual);
        var cosineToBundle = Numerics.MinCosine([.. bundleFloat32.SelectMany(r => r)], actual);
        Assert.True(cosine >= MinimumCosine, $"{caseModel}/{caseName}: int8 minimum cosine with HF float32 {cosine:F6}");
        Assert.True(cosineToBundle >= MinimumCosine, $"{caseModel}/{caseName}: int8 minimum cosine with the float32 bundle {cosineToBundle:F6}");

        // Quantization must change something: an int8 bundle equal to the float32 one would mean no int8 weights.
        Assert.True(Numerics.MaxAbs(expected, actual) > 1e-5, $"{caseModel}/{caseName}: int8 embeddings equal float32");
        output.WriteLine($"{caseModel}/{caseName}: int8 bundle, min cosine vs HF {cosine:F6}, vs float32 bundle {cosineToBundle:F6}, max abs {Numerics.MaxAbs(expected, actual):E2}");
    }

    [Fact]
    public void Every_projection_is_int8_and_the_rest_stays_float32()
    {
        var folder = bundles.Get("tiny-qwen2vl-tied", Vlm2VecExportDType.Int8);
        var manifest = Vlm2VecBundleManifest.Load(folder);
        Assert.Equal("int8", manifest.DType);
        var config = Qwen2VlConfig.Load(Path.Combine(folder, "config.json"));

        var vision = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(folder, "vision.onnx")));
        var text = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(folder, "text.onnx")));

        // Vision: qkv, proj, fc1, fc2 per block and the merger's two layers; the patch embedding stays a float MatMul.
        Assert.Equal((4 * config.Vision.Depth) + 2, vision.Graph.Node.Count(n => n.OpType == "DynamicQuantizeMatMul"));
        Assert.Equal(["visual.patch_embed.proj.weight.T"], WeightMatMuls(vision));

        // Decoder: q/k/v, o, gate/up, down per layer; the pooled last layer splits q from k/v (5 projections).
        Assert.Equal((4 * (config.NumHiddenLayers - 1)) + 5, text.Graph.Node.Count(n => n.OpType == "DynamicQuantizeMatMul"));
        Assert.Empty(WeightMatMuls(text));

        // Codes are int8, scales float32; the embedding table, norms and biases float32. Inputs and outputs as float32.
        foreach (var tensor in vision.Graph.Initializer.Concat(text.Graph.Initializer))
        {
            var expected = tensor.Name.EndsWith(".int8", StringComparison.Ordinal) ? TensorProto.Types.DataType.Int8
                : tensor.Name.StartsWith("/constants/INT64", StringComparison.Ordinal) ? TensorProto.Types.DataType.Int64
                : tensor.Name.StartsWith("/constants/INT32", StringComparison.Ordinal) ? TensorProto.Types.DataType.Int32
                : TensorProto.Types.DataType.Float;
            Assert.True((int)expected == tensor.DataType, $"{tensor.Name}: {(TensorProto.Types.DataType)tensor.DataType}, expected {expected}");
        }

        var float32 = Vlm2VecBundleManifest.Load(bundles.Get("tiny-qwen2vl-tied"));
        Assert.Equal(Interface(float32), Interface(manifest));
    }

    [Fact]
    public void Int8_bundle_on_a_GPU_provider_is_refused_under_the_fail_policy()
    {
        var folder = bundles.Get("tiny-qwen2vl-tied", Vlm2VecExportDType.Int8);
        var error = Assert.Throws<ExecutionProviderException>(() => OnnxVlm2VecEncoder.FromBundle(folder,
            new OnnxVlm2VecEncoderOptions { ExecutionProvider = OnnxExecutionProvider.Cuda, Fallback = ExecutionProviderFallback.Fail }));
        Assert.Equal(OnnxExecutionProvider.Cuda, error.Provider);
        Assert.Contains("int8 bundles run on the CPU provider only", error.Message, StringComparison.Ordinal);
        Assert.Contains("float16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Int8_bundle_on_a_GPU_provider_falls_back_to_CPU_with_the_reason_logged()
    {
        var logger = new CapturingLogger();
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied", Vlm2VecExportDType.Int8),
            new OnnxVlm2VecEncoderOptions { ExecutionProvider = OnnxExecutionProvider.Cuda, Logger = logger });
        Assert.Equal(OnnxExecutionProvider.Cpu, encoder.ExecutionProvider);
        Assert.Contains("int8 bundles run on the CPU provider only", encoder.ExecutionProviderFallbackReason, StringComparison.Ordinal);
        Assert.Contains(logger.Entries, e => e.Message.Contains("int8 bundles run on the CPU provider only", StringComparison.Ordinal));
    }

    private static List<string> Interface(Vlm2VecBundleManifest manifest) =>
        [.. manifest.Graphs.SelectMany(g => g.Inputs.Concat(g.Outputs)).Select(t => $"{t.Name}:{t.ElementType}[{string.Join(',', t.Shape)}]")];

    /// <summary>The weight initializers read by plain MatMul nodes.</summary>
    private static List<string> WeightMatMuls(ModelProto model)
    {
        var weights = model.Graph.Initializer.Where(t => t.Dims.Count == 2 && t.Dims[0] * t.Dims[1] > 64).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return [.. model.Graph.Node.Where(n => n.OpType == "MatMul").Select(n => n.Input[1]).Where(weights.Contains)];
    }
}
