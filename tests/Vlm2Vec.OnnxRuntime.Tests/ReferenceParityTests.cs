using Microsoft.ML.OnnxRuntime;
using Vlm2Vec.OnnxRuntime.Tests.Support;
using Vlm2Vec.TorchSharp.Export;
using Xunit.Abstractions;

namespace Vlm2Vec.OnnxRuntime.Tests;

/// <summary>
/// Bundles exported from the tiny Hugging Face reference checkpoints, run through <see cref="OnnxVlm2VecEncoder"/>,
/// against the numbers transformers 4.45.1 computed (Fixtures/reference README): embeddings within 1e-5, hidden states
/// within 1e-4 on real tokens; float16 bundles keep a cosine of at least 0.999 with HF's float32 embeddings.
/// </summary>
[Collection(ExportedBundlesCollection.Name)]
public sealed class ReferenceParityTests(ExportedBundles bundles, ITestOutputHelper output)
{
    public static TheoryData<string, string, string> Cases => new()
    {
        { "tiny-qwen2vl-tied", "tiny-qwen2vl-tied", "text_left_padded" },
        { "tiny-qwen2vl-tied", "tiny-qwen2vl-tied", "vlm2vec_image_mixed" },
        { "tiny-qwen2vl-tied", "tiny-qwen2vl-tied", "chat_mrope_left_padded" },
        { "tiny-qwen2vl-tied", "tiny-qwen2vl-tied", "right_padded_mixed" },
        { "tiny-qwen2vl-tied", "tiny-qwen2vl-tied", "single_chat_image" },
        { "tiny-qwen2vl-untied-sharded", "tiny-qwen2vl-untied", "chat_two_images_left_padded" },
        { "tiny-qwen2vl-untied-sharded", "tiny-qwen2vl-untied", "text_right_padded" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Float32_bundle_reproduces_HF_embeddings(string modelFolder, string caseModel, string caseName)
    {
        var folder = ReferenceCases.Case(caseModel, caseName);
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get(modelFolder));
        var batch = ReferenceCases.Batch(folder, encoder.Bundle.Config.ImageTokenId);
        var (expected, _) = ReferenceCases.Floats(folder, "embeddings.npy");

        var actual = await encoder.EncodeAsync(batch);

        var error = Numerics.MaxAbs(expected, actual);
        Assert.True(error <= 1e-5, $"{caseModel}/{caseName}: embeddings max abs error {error:E3}");
        output.WriteLine($"{caseModel}/{caseName}: float32 bundle, embeddings max abs error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Vision_features_and_every_hidden_state_match_HF(string modelFolder, string caseModel, string caseName)
    {
        var folder = ReferenceCases.Case(caseModel, caseName);
        var bundle = bundles.Get(modelFolder, diagnostics: true);
        var config = Qwen2VlConfig.Load(Path.Combine(bundle, "config.json"));
        var batch = ReferenceCases.Batch(folder, config.ImageTokenId);
        using var runner = new BundleGraphRunner(bundle);

        var features = runner.ImageEmbeds(batch, config.HiddenSize);
        if (batch.ImageCount > 0)
        {
            var featureError = Numerics.MaxAbs(ReferenceCases.Floats(folder, "image_embeds.npy").Data, features);
            Assert.True(featureError <= 1e-4, $"image_embeds max abs error {featureError:E3}");
        }

        var (embeddings, hidden) = runner.Text(batch, features, config.HiddenSize);
        var (expectedHidden, _) = ReferenceCases.Floats(folder, "last_hidden_state.npy");
        double worstReal = 0;
        for (var token = 0; token < batch.AttentionMask.Length; token++)
        {
            if (batch.AttentionMask[token] == 1)
            {
                var span = token * config.HiddenSize;
                worstReal = Math.Max(worstReal, Numerics.MaxAbs(expectedHidden.AsSpan(span, config.HiddenSize), hidden.AsSpan(span, config.HiddenSize)));
            }
        }

        Assert.True(worstReal <= 1e-4, $"last_hidden_state (real tokens) max abs error {worstReal:E3}");
        var embeddingError = Numerics.MaxAbs(ReferenceCases.Floats(folder, "embeddings.npy").Data, embeddings);
        Assert.True(embeddingError <= 1e-5, $"embeddings (unpruned last layer) max abs error {embeddingError:E3}");
        output.WriteLine($"{caseModel}/{caseName}: hidden states (real tokens) {worstReal:E2}, embeddings {embeddingError:E2}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Float16_bundle_keeps_cosine_0_999_with_HF_float32_embeddings(string modelFolder, string caseModel, string caseName)
    {
        var folder = ReferenceCases.Case(caseModel, caseName);
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get(modelFolder, Vlm2VecExportDType.Float16));
        Assert.Equal("float16", encoder.Info.DType);
        var batch = ReferenceCases.Batch(folder, encoder.Bundle.Config.ImageTokenId);
        var (expected, _) = ReferenceCases.Floats(folder, "embeddings.npy");

        var actual = await encoder.EncodeAsync(batch);

        var cosine = Numerics.MinCosine(expected, actual);
        Assert.True(cosine >= 0.999, $"{caseModel}/{caseName}: float16 minimum cosine {cosine:F6}");
        output.WriteLine($"{caseModel}/{caseName}: float16 bundle, 1 - min cosine {1 - cosine:E1}, max abs {Numerics.MaxAbs(expected, actual):E2}");
    }

    [Theory]
    [InlineData("tiny-qwen2vl-tied-bin", "cases/tiny-qwen2vl-tied/vlm2vec_image_mixed")]
    [InlineData("tiny-qwen2vl-tied-bf16", "cases/tiny-qwen2vl-tied-bf16/vlm2vec_image_mixed")]
    public async Task Other_checkpoint_formats_export_to_the_same_numbers(string modelFolder, string expectedFolder)
    {
        var expectedPath = Path.Combine(ReferenceCases.Root, expectedFolder);
        var inputs = ReferenceCases.Case("tiny-qwen2vl-tied", "vlm2vec_image_mixed");
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get(modelFolder));
        var batch = ReferenceCases.Batch(expectedPath, encoder.Bundle.Config.ImageTokenId, inputsFrom: inputs);

        var actual = await encoder.EncodeAsync(batch);

        var error = Numerics.MaxAbs(ReferenceCases.Floats(expectedPath, "embeddings.npy").Data, actual);
        Assert.True(error <= 1e-5, $"{modelFolder}: embeddings max abs error {error:E3}");
        output.WriteLine($"{modelFolder}: embeddings max abs error {error:E2}");
    }

    [Theory]
    [InlineData("dora", "dora-expected")]
    [InlineData("dora-newlayout", "dora-expected")]
    [InlineData("lora", "lora-expected")]
    public async Task Merged_adapters_reproduce_HF_outputs_with_the_merged_weights(string adapter, string expected)
    {
        var expectedPath = Path.Combine(ReferenceCases.Adapter(expected), "vlm2vec_image_mixed");
        var inputs = ReferenceCases.Case("tiny-qwen2vl-tied", "vlm2vec_image_mixed");
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied", adapter: adapter));
        Assert.EndsWith(adapter, encoder.Bundle.Manifest.Provenance.Adapter, StringComparison.Ordinal);
        var batch = ReferenceCases.Batch(expectedPath, encoder.Bundle.Config.ImageTokenId, inputsFrom: inputs);

        var actual = await encoder.EncodeAsync(batch);

        var error = Numerics.MaxAbs(ReferenceCases.Floats(expectedPath, "embeddings.npy").Data, actual);
        Assert.True(error <= 1e-5, $"{adapter}: embeddings max abs error {error:E3}");

        // The adapter must matter: the base model's embeddings are far from the adapted ones.
        var baseError = Numerics.MaxAbs(ReferenceCases.Floats(inputs, "embeddings.npy").Data, actual);
        Assert.True(baseError > 1e-2, $"{adapter}: adapted embeddings equal the base model's ({baseError:E3})");
        output.WriteLine($"{adapter}: embeddings max abs error {error:E2} (base model differs by {baseError:E2})");
    }

    public static TheoryData<string> GraphVariants => ["vision-chain", "decoder-chain", "decoder-gqa", "fused-skip-norms", "full-last-layer"];

    [Theory]
    [MemberData(nameof(GraphVariants))]
    public async Task Every_graph_variant_reproduces_HF_embeddings(string variant)
    {
        var fp32 = Vlm2VecOnnxExporter.DefaultGraphOptions(Vlm2VecExportDType.Float32);
        var options = variant switch
        {
            "vision-chain" => fp32 with { VisionAttention = TorchSharp.Onnx.AttentionFormulation.MatMulSoftmax },
            "decoder-chain" => fp32 with { DecoderAttention = TorchSharp.Onnx.AttentionFormulation.MatMulSoftmax },
            "decoder-gqa" => fp32 with { DecoderAttention = TorchSharp.Onnx.AttentionFormulation.GroupQueryAttention },
            "fused-skip-norms" => fp32 with { FusedDecoderSkipNorms = true, FusedVisionSkipNorms = true },
            "full-last-layer" => fp32 with { PoolBeforeLastLayer = false },
            _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, null),
        };
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.GetVariant(variant, options));
        foreach (var caseName in new[] { "chat_mrope_left_padded", "right_padded_mixed", "vlm2vec_image_mixed" })
        {
            var folder = ReferenceCases.Case("tiny-qwen2vl-tied", caseName);
            var actual = await encoder.EncodeAsync(ReferenceCases.Batch(folder, 276));
            var error = Numerics.MaxAbs(ReferenceCases.Floats(folder, "embeddings.npy").Data, actual);
            Assert.True(error <= 1e-5, $"{variant} / {caseName}: embeddings max abs error {error:E3}");
            output.WriteLine($"{variant} / {caseName}: {error:E2}");
        }
    }
}
