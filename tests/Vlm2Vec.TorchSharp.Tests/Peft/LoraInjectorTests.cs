using TorchSharp;
using TorchSharp.Modules;
using Vlm2Vec.TorchSharp.Peft;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Peft;

public sealed class LoraInjectorTests : TorchTestBase
{
    private static readonly string[] V1PerLayer = ["mlp.down_proj", "self_attn.k_proj", "self_attn.o_proj", "self_attn.q_proj", "self_attn.v_proj"];

    [Fact]
    public void V1_config_wraps_language_model_attention_and_down_proj_only()
    {
        var model = TinyQwen2VlModel.Random(1);
        var injected = LoraInjector.Inject(model, LoraConfig.Vlm2VecV1 with { R = 2 }, new LoraInjectOptions { Seed = 1 });

        var expected = Enumerable.Range(0, 2).SelectMany(i => V1PerLayer.Select(p => $"model.layers.{i}.{p}")).Order(StringComparer.Ordinal);
        Assert.Equal(expected, injected.Order(StringComparer.Ordinal));
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        Assert.All(injected, name => Assert.IsType<DoraLinear>(modules[name]));
        Assert.IsType<Linear>(modules["model.layers.0.mlp.gate_proj"]);
        Assert.IsType<Linear>(modules["visual.blocks.0.attn.qkv"]);
        Assert.IsType<Linear>(modules["visual.blocks.0.mlp.fc1"]);
        Assert.IsType<Linear>(modules["lm_head"]);
        Assert.Contains("model.layers.0.self_attn.q_proj.base_layer.weight", model.state_dict().Keys);
        Assert.Contains("model.layers.0.self_attn.q_proj.lora_magnitude_vector", model.state_dict().Keys);
    }

    [Fact]
    public void V2_config_also_wraps_gate_and_up()
    {
        var model = TinyQwen2VlModel.Random(2);
        var injected = LoraInjector.Inject(model, LoraConfig.Vlm2VecV2 with { R = 2 });
        Assert.Equal(14, injected.Count);
        Assert.Contains("model.layers.1.mlp.gate_proj", injected);
        Assert.Contains("model.layers.1.mlp.up_proj", injected);
        Assert.DoesNotContain(injected, n => n.StartsWith("visual.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fresh_adapters_leave_the_output_unchanged_and_only_adapters_train(bool dora)
    {
        var model = TinyQwen2VlModel.Random(3);
        model.eval();
        var ids = tensor(new long[] { 1, 5, 9, 2, 15, 0 }, [2, 3]);
        var before = model.forward(ids);

        var config = LoraConfig.Vlm2VecV1 with { R = 2, UseDora = dora, LoraDropout = 0 };
        LoraInjector.Inject(model, config, new LoraInjectOptions { Seed = 3 });
        AssertClose(before, model.forward(ids), 1e-5, "fresh adapters are a no-op");

        var trainable = LoraInjector.FreezeAllButAdapters(model);
        // Per layer: q (8→8), k (8→4), v (8→4), o (8→8), down (12→8); r·(in+out) each, plus out for DoRA's magnitude.
        long perLayer = (2 * (8 + 8)) + (2 * (8 + 4)) + (2 * (8 + 4)) + (2 * (8 + 8)) + (2 * (12 + 8));
        if (dora)
        {
            perLayer += 8 + 4 + 4 + 8 + 8;
        }

        Assert.Equal(2 * perLayer, trainable);
        Assert.Equal(trainable, model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));

        model.train();
        model.forward(ids).pow(2).mean().backward();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (LoraInjector.IsAdapterParameter(name))
            {
                Assert.True(parameter.grad is not null, $"{name} should get a gradient");
            }
            else
            {
                Assert.True(parameter.grad is null, $"{name} is frozen and should get none");
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Merge_and_unload_restores_plain_linears_with_the_same_output(bool dora)
    {
        var model = TinyQwen2VlModel.Random(4);
        var config = LoraConfig.Vlm2VecV2 with { R = 2, UseDora = dora };
        LoraInjector.Inject(model, config, new LoraInjectOptions { Seed = 4 });
        Perturb(model, seed: 5);
        model.eval();
        var ids = tensor(new long[] { 3, 4, 5, 6 }, [1, 4]);
        var unmerged = model.forward(ids);

        var merged = LoraInjector.MergeAndUnload(model);
        Assert.Equal(14, merged.Count);
        Assert.DoesNotContain(model.named_modules(), m => m.module is LoraLinear or DoraLinear);
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", model.state_dict().Keys);
        AssertClose(unmerged, model.forward(ids), 2e-5, "merged vs unmerged model output");
    }

    [Fact]
    public void A_field_typed_as_Linear_cannot_be_replaced_and_says_why()
    {
        var holder = new LinearHolder();
        var ex = Assert.Throws<InvalidOperationException>(() => LoraInjector.Inject(holder, new LoraConfig { R = 2, TargetModules = ["q_proj"] }));
        Assert.Contains("declare it as Module<Tensor, Tensor>", ex.Message, StringComparison.Ordinal);

        var none = Assert.Throws<ArgumentException>(() => LoraInjector.Inject(TinyQwen2VlModel.Random(5), new LoraConfig { R = 2, TargetModules = ["nothing_here"] }));
        Assert.Contains("matched no Linear", none.Message, StringComparison.Ordinal);
    }

    /// <summary>Randomises every adapter parameter so that merges are not no-ops.</summary>
    internal static void Perturb(nn.Module model, long seed)
    {
        using var generator = new Generator((ulong)seed, CPU);
        using (no_grad())
        {
            foreach (var (name, parameter) in model.named_parameters())
            {
                if (name.EndsWith("lora_magnitude_vector", StringComparison.Ordinal))
                {
                    using var factor = rand(parameter.shape, generator: generator).add_(0.5);
                    parameter.mul_(factor);
                }
                else if (LoraInjector.IsAdapterParameter(name))
                {
                    using var values = randn(parameter.shape, generator: generator).mul_(0.3);
                    parameter.copy_(values);
                }
            }
        }
    }

    private sealed class LinearHolder : nn.Module<Tensor, Tensor>
    {
#pragma warning disable IDE1006
        private readonly Linear q_proj = nn.Linear(4, 4);
#pragma warning restore IDE1006

        public LinearHolder()
            : base(nameof(LinearHolder)) => RegisterComponents();

        public override Tensor forward(Tensor input) => q_proj.forward(input);
    }
}
