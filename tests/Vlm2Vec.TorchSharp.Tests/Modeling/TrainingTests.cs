using static TorchSharp.torch;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>The forward is differentiable end to end (what contrastive training and GradCache need).</summary>
public sealed class TrainingTests
{
    public TrainingTests() => TorchSharpRuntime.EnsureLoaded();

    [Fact]
    public void Gradients_reach_the_decoder_and_the_vision_tower()
    {
        using var model = T.Create(seed: 61);
        model.train();
        using var scope = NewDisposeScope();
        var output = T.Run(model, [T.Row(4, 5, 6), T.Row(0, 7, 8, 9)], images: [(1, 4, 4, T.Pixels(1, 4, 4, 62))]);
        var target = randn(2, 64);
        var loss = (output.Embeddings * target).sum();
        loss.backward();

        var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        foreach (var name in new[]
        {
            "model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight", "model.norm.weight",
            "visual.patch_embed.proj.weight", "visual.blocks.0.attn.qkv.weight", "visual.merger.mlp.2.bias",
        })
        {
            Assert.NotNull(grads[name]);
            Assert.True(grads[name]!.abs().sum().item<float>() > 0, $"{name} got a zero gradient");
        }

        // The embedding row of a token never in the batch gets no gradient.
        var embedGrad = grads["model.embed_tokens.weight"]!;
        Assert.Equal(0f, embedGrad[50].abs().sum().item<float>());
        Assert.True(embedGrad[5].abs().sum().item<float>() > 0);
    }
}
