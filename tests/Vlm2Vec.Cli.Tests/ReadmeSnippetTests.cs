using System.Numerics.Tensors;
using Vlm2Vec.OnnxRuntime;

namespace Vlm2Vec.Cli.Tests;

/// <summary>The README's library snippet, as written there, runs on the shipped demo model and gives the answer it implies.</summary>
public sealed class ReadmeSnippetTests
{
    [Fact]
    public async Task The_readme_snippet_embeds_the_sample_image_closest_to_its_own_label()
    {
        var readme = File.ReadAllText(RepositoryFiles.Path("README.md"));
        Assert.Contains("OnnxVlm2VecEncoder.FromBundle(\"models/fashion-demo\")", readme, StringComparison.Ordinal);
        Assert.Contains("Prompt = \"<|image_1|>\\nRepresent the given image for classification\\n\"", readme, StringComparison.Ordinal);

        // The snippet, with repository-relative paths made absolute.
        using var encoder = OnnxVlm2VecEncoder.FromBundle(RepositoryFiles.Path("models", "fashion-demo"));
        var embedder = new Vlm2VecEmbedder(encoder);
        float[][] vectors = await embedder.EmbedAsync(
        [
            new MultimodalInput
            {
                Prompt = "<|image_1|>\nRepresent the given image for classification\n",
                Images = [ImageInput.FromFile(RepositoryFiles.Path("samples", "images", "fashion-mnist", "sneaker-1.png"))],
            },
            MultimodalInput.FromText("Sneaker", role: EmbeddingRole.Target),
        ]);
        float cosine = TensorPrimitives.Dot(vectors[0], vectors[1]);

        // Against every other label the sneaker label wins.
        string[] others = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Bag", "Ankle boot"];
        var labels = await embedder.EmbedAsync(others.Select(label => MultimodalInput.FromText(label, role: EmbeddingRole.Target)).ToList());
        Assert.All(labels, label => Assert.True(TensorPrimitives.Dot(vectors[0], label) < cosine));
        Assert.InRange(TensorPrimitives.Norm(vectors[0]), 0.999f, 1.001f);
    }
}
