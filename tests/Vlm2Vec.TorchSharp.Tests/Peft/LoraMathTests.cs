using TorchSharp;
using TorchSharp.Modules;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Peft;

public sealed class LoraMathTests : TorchTestBase
{
    // W (2×3), A (1×3), B (2×1), r = 1, α = 2 → s = 2.
    // s·B·A = [[2, 0, 2], [4, 0, 4]], so W + s·B·A = [[3, 2, 2], [4, 1, 3]], row norms √17 and √26.
    private static readonly float[] W = [1, 2, 0, 0, 1, -1];
    private static readonly float[] A = [1, 0, 1];
    private static readonly float[] B = [1, 2];

    [Fact]
    public void Lora_merge_matches_the_hand_computed_example()
    {
        var merged = LoraMath.MergedWeight(tensor(W, [2, 3]), tensor(A, [1, 3]), tensor(B, [2, 1]), null, 2.0, ScalarType.Float32);
        Assert.Equal(new float[] { 3, 2, 2, 4, 1, 3 }, merged.data<float>().ToArray());
    }

    [Fact]
    public void Dora_merge_matches_the_hand_computed_example()
    {
        // m = [3, 10]: W' = [3/√17 · (3, 2, 2), 10/√26 · (4, 1, 3)].
        var merged = LoraMath.MergedWeight(tensor(W, [2, 3]), tensor(A, [1, 3]), tensor(B, [2, 1]), tensor(new float[] { 3, 10 }), 2.0, ScalarType.Float32);
        var r0 = 3 / Math.Sqrt(17);
        var r1 = 10 / Math.Sqrt(26);
        var expected = new[] { 3 * r0, 2 * r0, 2 * r0, 4 * r1, 1 * r1, 3 * r1 };
        var actual = merged.data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 5);
        }

        // Each merged row's norm is the magnitude.
        AssertClose(tensor(new float[] { 3, 10 }), linalg.vector_norm(merged, 2, [1], false), 1e-6);
    }

    [Fact]
    public void Merge_computes_in_float32_and_returns_the_requested_type()
    {
        var weight = tensor(W, [2, 3]).to(ScalarType.BFloat16);
        var merged = LoraMath.MergedWeight(weight, tensor(A, [1, 3]), tensor(B, [2, 1]), tensor(new float[] { 3, 10 }), 2.0, ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, merged.dtype);
        var inFloat = LoraMath.MergedWeight(tensor(W, [2, 3]), tensor(A, [1, 3]), tensor(B, [2, 1]), tensor(new float[] { 3, 10 }), 2.0, ScalarType.Float32);
        AssertIdentical(inFloat.to(ScalarType.BFloat16), merged);
        Assert.Equal(ScalarType.BFloat16, weight.dtype);
        AssertIdentical(tensor(W, [2, 3]).to(ScalarType.BFloat16), weight, "the base weight is left untouched");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Unmerged_forward_equals_the_merged_linear(bool dora)
    {
        var (module, baseLinear) = RandomAdapter(dora, seed: 21, inFeatures: 24, outFeatures: 20, rank: 4);
        module.eval();
        var x = RandomNormal([5, 7, 24], 22);
        var unmerged = module.forward(x);

        var merged = LoraMath.MergedWeight(baseLinear.weight!, LoraA(module).weight!, LoraB(module).weight!, Magnitude(module), Scaling(module), ScalarType.Float32);
        var expected = nn.functional.linear(x, merged, baseLinear.bias);
        AssertClose(expected, unmerged, 2e-5, "unmerged vs merged forward");
    }

    [Fact]
    public void Dora_gradients_treat_the_weight_norm_as_a_constant()
    {
        var (module, baseLinear) = RandomAdapter(dora: true, seed: 31, inFeatures: 6, outFeatures: 5, rank: 2);
        var dora = (DoraLinear)module;
        module.train();
        var x = RandomNormal([3, 6], 32);
        var target = RandomNormal([3, 5], 33);
        module.forward(x).sub(target).pow(2).sum().backward();

        // Reference: y = (m / n.detach()) ⊙ ((W + s·B·A) x) + b, with fresh leaves holding the same values.
        var a = dora.LoraA.weight!.detach().clone().requires_grad_(true);
        var b = dora.LoraB.weight!.detach().clone().requires_grad_(true);
        var m = dora.Magnitude.detach().clone().requires_grad_(true);
        var adapted = baseLinear.weight!.detach().add(b.matmul(a).mul(dora.Scaling));
        var norm = linalg.vector_norm(adapted, 2, [1], false).detach();
        var y = nn.functional.linear(x, adapted, null).mul(m.div(norm).view(1, -1)).add(baseLinear.bias!.detach());
        y.sub(target).pow(2).sum().backward();

        AssertRelativelyClose(a.grad!, dora.LoraA.weight!.grad!, 1e-5, "dL/dA");
        AssertRelativelyClose(b.grad!, dora.LoraB.weight!.grad!, 1e-5, "dL/dB");
        AssertRelativelyClose(m.grad!, dora.Magnitude.grad!, 1e-5, "dL/dm");
        Assert.Null(baseLinear.weight!.grad);
    }

    [Fact]
    public void Training_dropout_applies_to_the_adapter_input_as_in_peft()
    {
        // LoRA: the base output never sees dropout; with B = 0 the output equals the base output even in training.
        var config = new LoraConfig { R = 4, LoraAlpha = 8, LoraDropout = 0.5, InitLoraWeights = "gaussian" };
        var baseLinear = nn.Linear(8, 6);
        var lora = new LoraLinear(baseLinear, config, "x", new LoraInjectOptions { Seed = 1 });
        lora.train();
        var x = RandomNormal([4, 8], 41);
        AssertClose(baseLinear.forward(x), lora.forward(x), 1e-6);

        // Non-zero B: training outputs vary with the dropout mask, eval outputs do not.
        using (no_grad())
        {
            lora.LoraB.weight!.copy_(RandomNormal([6, 4], 42));
        }

        Assert.False(lora.forward(x).allclose(lora.forward(x)));
        lora.eval();
        Assert.True(lora.forward(x).allclose(lora.forward(x)));
    }

    [Fact]
    public void Gaussian_init_follows_peft()
    {
        var config = new LoraConfig { R = 8, LoraAlpha = 64, UseDora = true, InitLoraWeights = "gaussian" };
        var baseLinear = nn.Linear(512, 64);
        var dora = new DoraLinear(baseLinear, config, "m", new LoraInjectOptions { Seed = 7 });

        // A ~ N(0, std = 1/r) over 4096 draws: the sample std is within 5 % of 1/8.
        var std = dora.LoraA.weight!.std().item<float>();
        Assert.InRange(std, 0.125 * 0.95, 0.125 * 1.05);
        Assert.Equal(0f, dora.LoraB.weight!.abs().max().item<float>());
        AssertClose(linalg.vector_norm(baseLinear.weight!, 2, [1], false), dora.Magnitude, 1e-6, "magnitude = row norms of W");
        Assert.Equal(ScalarType.Float32, dora.Magnitude.dtype);
        Assert.False(baseLinear.weight!.requires_grad);
        var x = RandomNormal([3, 512], 8);
        AssertClose(baseLinear.forward(x), dora.forward(x), 1e-5, "a fresh adapter is a no-op");

        // The same seed gives the same adapter.
        var again = new DoraLinear(nn.Linear(512, 64), config, "m", new LoraInjectOptions { Seed = 7 });
        AssertIdentical(dora.LoraA.weight!, again.LoraA.weight!);
    }

    [Fact]
    public void Bfloat16_base_with_float32_adapter_returns_bfloat16()
    {
        var (module, baseLinear) = RandomAdapter(dora: true, seed: 51, inFeatures: 16, outFeatures: 12, rank: 4);
        module.eval();
        baseLinear.to(ScalarType.BFloat16);
        var x = RandomNormal([2, 16], 52).to(ScalarType.BFloat16);
        var y = module.forward(x);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        Assert.Equal(ScalarType.Float32, ((DoraLinear)module).LoraA.weight!.dtype);

        var merged = LoraMath.MergedWeight(baseLinear.weight!, LoraA(module).weight!, LoraB(module).weight!, Magnitude(module), Scaling(module), ScalarType.Float32);
        AssertClose(nn.functional.linear(x.to(ScalarType.Float32), merged, baseLinear.bias!.to(ScalarType.Float32)), y, 0.1, "bf16 forward near the fp32 merged result");
    }

    internal static (nn.Module<Tensor, Tensor> Module, Linear Base) RandomAdapter(bool dora, long seed, int inFeatures, int outFeatures, int rank)
    {
        var config = new LoraConfig { R = rank, LoraAlpha = 2.5 * rank, UseDora = dora, InitLoraWeights = "gaussian" };
        var baseLinear = nn.Linear(inFeatures, outFeatures);
        using (no_grad())
        {
            baseLinear.weight!.copy_(RandomNormal([outFeatures, inFeatures], seed));
            baseLinear.bias!.copy_(RandomNormal([outFeatures], seed + 1));
        }

        nn.Module<Tensor, Tensor> module = dora
            ? new DoraLinear(baseLinear, config, "layer", new LoraInjectOptions { Seed = seed + 2 })
            : new LoraLinear(baseLinear, config, "layer", new LoraInjectOptions { Seed = seed + 2 });
        using (no_grad())
        {
            LoraB(module).weight!.copy_(RandomNormal([outFeatures, rank], seed + 3));
            if (module is DoraLinear d)
            {
                d.Magnitude.mul_(RandomNormal([outFeatures], seed + 4).abs().add(0.5));
            }
        }

        return (module, baseLinear);
    }

    internal static Tensor RandomNormal(long[] shape, long seed)
    {
        using var generator = new Generator((ulong)seed, CPU);
        return randn(shape, generator: generator);
    }

    private static Linear LoraA(nn.Module module) => module is DoraLinear d ? d.LoraA : ((LoraLinear)module).LoraA;

    private static Linear LoraB(nn.Module module) => module is DoraLinear d ? d.LoraB : ((LoraLinear)module).LoraB;

    private static Tensor? Magnitude(nn.Module module) => module is DoraLinear d ? d.Magnitude : null;

    private static double Scaling(nn.Module module) => module is DoraLinear d ? d.Scaling : ((LoraLinear)module).Scaling;
}
