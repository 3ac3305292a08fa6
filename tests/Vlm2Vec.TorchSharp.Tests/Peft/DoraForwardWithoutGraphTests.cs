using TorchSharp;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Tests.Training;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Peft;

/// <summary>DoRA's forward without autograd against its forward with graph (dropout draws from the global generator, hence the collection).</summary>
[Collection(TrainingCollection.Name)]
public sealed class DoraForwardWithoutGraphTests : TorchTestBase
{
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void Dora_forward_without_graph_equals_the_forward_with_graph(bool training, bool bfloat16Base)
    {
        // Without autograd the DoRA output is computed in fewer products (ForwardWithoutGraph); it must equal the PEFT-form
        // forward, with the same dropout draw, which is what GradCache's first pass relies on.
        var config = new LoraConfig { R = 4, LoraAlpha = 10, UseDora = true, LoraDropout = 0.3, InitLoraWeights = "gaussian" };
        var baseLinear = nn.Linear(24, 20);
        using (no_grad())
        {
            baseLinear.weight!.copy_(LoraMathTests.RandomNormal([20, 24], 61));
            baseLinear.bias!.copy_(LoraMathTests.RandomNormal([20], 62));
        }

        var dora = new DoraLinear(baseLinear, config, "layer", new LoraInjectOptions { Seed = 63 });
        using (no_grad())
        {
            dora.LoraB.weight!.copy_(LoraMathTests.RandomNormal([20, 4], 64));
            dora.Magnitude.mul_(LoraMathTests.RandomNormal([20], 65).abs().add(0.5));
        }

        if (bfloat16Base)
        {
            baseLinear.to(ScalarType.BFloat16);
        }

        dora.train(training);
        var x = LoraMathTests.RandomNormal([5, 7, 24], 66);
        if (bfloat16Base)
        {
            x = x.to(ScalarType.BFloat16);
        }

        manual_seed(67);
        var withGraph = dora.forward(x);
        var afterGraph = rand(4);
        manual_seed(67);
        Tensor withoutGraph;
        using (no_grad())
        {
            withoutGraph = dora.forward(x);
        }

        Assert.Equal(withGraph.dtype, withoutGraph.dtype);
        AssertRelativelyClose(withGraph.to(ScalarType.Float32), withoutGraph.to(ScalarType.Float32), bfloat16Base ? 2e-2 : 1e-5, "no-graph vs graph forward");
        AssertIdentical(afterGraph, rand(4), "both forwards draw the same dropout mask (the generator ends in the same state)");
        if (training)
        {
            manual_seed(68);
            using (no_grad())
            {
                Assert.False(dora.forward(x).allclose(withoutGraph), "a different seed draws a different dropout mask");
            }
        }
    }
}
