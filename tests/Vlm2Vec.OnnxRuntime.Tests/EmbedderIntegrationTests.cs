using Vlm2Vec.OnnxRuntime.Tests.Support;

namespace Vlm2Vec.OnnxRuntime.Tests;

/// <summary>
/// The whole path on an exported bundle: the encoder's own preprocessing (tokenizer, image processor and limits from the
/// bundle) under <see cref="Vlm2VecEmbedder"/>, whose budget batching and length sorting must not change any vector.
/// </summary>
[Collection(ExportedBundlesCollection.Name)]
public sealed class EmbedderIntegrationTests(ExportedBundles bundles)
{
    [Fact]
    public async Task Batched_sorted_embeddings_equal_one_at_a_time_embeddings_in_input_order()
    {
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"));
        Assert.Equal(32768, encoder.Preprocessor.MaxTokens);
        var images = Path.Combine(ReferenceCases.Root, "images");
        MultimodalInput[] inputs =
        [
            MultimodalInput.FromText("a short query", "Find the caption:"),
            MultimodalInput.FromImage(ImageInput.FromFile(Path.Combine(images, "img_h56_w84.png")), "Represent the given image."),
            MultimodalInput.FromText("a much longer text that pads the others when they share a batch with it"),
            MultimodalInput.FromImage(ImageInput.FromFile(Path.Combine(images, "img_h84_w56.png")), "Represent the given image.", "with a question"),
            MultimodalInput.FromImage(ImageInput.FromFile(Path.Combine(images, "img_h56_w84.png")), "Same grid as input 1."),
            MultimodalInput.FromText("x"),
        ];

        var batched = await new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = 4, MaxBatchPatches = 48 }).EmbedAsync(inputs);
        var oneByOne = new List<float[]>();
        foreach (var input in inputs)
        {
            oneByOne.Add(await new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = 1 }).EmbedAsync(input));
        }

        Assert.Equal(inputs.Length, batched.Length);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(64, batched[i].Length);
            var error = Numerics.MaxAbs(batched[i], oneByOne[i]);
            Assert.True(error <= 1e-5, $"input {i}: batched vs alone differ by {error:E3}");
            Assert.InRange(Math.Sqrt(batched[i].Sum(v => (double)v * v)), 0.99999, 1.00001);
        }

        // Different inputs give different vectors (the order is really kept).
        Assert.True(Numerics.MaxAbs(batched[0], batched[2]) > 1e-3);
        Assert.True(Numerics.MaxAbs(batched[1], batched[4]) > 1e-3);
    }
}
