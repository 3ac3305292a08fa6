using Vlm2Vec.TorchSharp.Modeling;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>The module tree carries exactly the checkpoint names and shapes of spec §3.9.</summary>
public sealed class ParameterNameTests
{
    public ParameterNameTests() => TorchSharpRuntime.EnsureLoaded();

    [Fact]
    public void Parameters_have_the_checkpoint_names_and_shapes_of_a_2B_shaped_config()
    {
        // 2B-shaped: tied embeddings, 6:1 GQA-like grouping (here 4 heads / 2 KV heads), q/k/v biases; tiny sizes.
        var config = T.Config(layers: 3, visionDepth: 2, tied: true);
        using var model = T.Create(config: config);
        var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);

        long h = config.HiddenSize, kv = config.NumKeyValueHeads * config.HeadDim, ffn = config.IntermediateSize, e = config.Vision.EmbedDim;
        var expected = new Dictionary<string, long[]>
        {
            ["model.embed_tokens.weight"] = [config.VocabSize, h],
            ["model.norm.weight"] = [h],
            ["visual.patch_embed.proj.weight"] = [e, 3, 2, 14, 14],
            ["visual.merger.ln_q.weight"] = [e],
            ["visual.merger.ln_q.bias"] = [e],
            ["visual.merger.mlp.0.weight"] = [4 * e, 4 * e],
            ["visual.merger.mlp.0.bias"] = [4 * e],
            ["visual.merger.mlp.2.weight"] = [h, 4 * e],
            ["visual.merger.mlp.2.bias"] = [h],
        };
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            expected[p + "input_layernorm.weight"] = [h];
            expected[p + "self_attn.q_proj.weight"] = [h, h];
            expected[p + "self_attn.q_proj.bias"] = [h];
            expected[p + "self_attn.k_proj.weight"] = [kv, h];
            expected[p + "self_attn.k_proj.bias"] = [kv];
            expected[p + "self_attn.v_proj.weight"] = [kv, h];
            expected[p + "self_attn.v_proj.bias"] = [kv];
            expected[p + "self_attn.o_proj.weight"] = [h, h];
            expected[p + "post_attention_layernorm.weight"] = [h];
            expected[p + "mlp.gate_proj.weight"] = [ffn, h];
            expected[p + "mlp.up_proj.weight"] = [ffn, h];
            expected[p + "mlp.down_proj.weight"] = [h, ffn];
        }

        for (var j = 0; j < config.Vision.Depth; j++)
        {
            var p = $"visual.blocks.{j}.";
            foreach (var norm in new[] { "norm1", "norm2" })
            {
                expected[$"{p}{norm}.weight"] = [e];
                expected[$"{p}{norm}.bias"] = [e];
            }

            expected[p + "attn.qkv.weight"] = [3 * e, e];
            expected[p + "attn.qkv.bias"] = [3 * e];
            expected[p + "attn.proj.weight"] = [e, e];
            expected[p + "attn.proj.bias"] = [e];
            expected[p + "mlp.fc1.weight"] = [config.Vision.MlpHiddenDim, e];
            expected[p + "mlp.fc1.bias"] = [config.Vision.MlpHiddenDim];
            expected[p + "mlp.fc2.weight"] = [e, config.Vision.MlpHiddenDim];
            expected[p + "mlp.fc2.bias"] = [e];
        }

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected)
        {
            Assert.True(shape.SequenceEqual(actual[name]), $"{name}: expected [{string.Join(", ", shape)}], got [{string.Join(", ", actual[name])}]");
        }
    }

    [Fact]
    public void Untied_config_with_head_has_lm_head_and_tied_one_does_not()
    {
        var untied = T.Config(tied: false);
        using var withHead = Qwen2VlForConditionalGeneration.CreateRandom(untied, new Qwen2VlRandomInitOptions { IncludeLanguageModelHead = true });
        Assert.Contains(withHead.named_parameters(), p => p.name == "lm_head.weight" && p.parameter.shape.SequenceEqual(new long[] { untied.VocabSize, untied.HiddenSize }));

        using var tied = Qwen2VlForConditionalGeneration.CreateRandom(T.Config(tied: true), new Qwen2VlRandomInitOptions { IncludeLanguageModelHead = true });
        Assert.DoesNotContain(tied.named_parameters(), p => p.name.StartsWith("lm_head", StringComparison.Ordinal));
        Assert.True(tied.HasLanguageModelHead);
    }

    [Fact]
    public void Lora_targetable_projections_are_replaceable_module_fields_named_like_their_keys()
    {
        using var model = T.Create();
        var targets = new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" };
        foreach (var (name, module) in model.named_modules())
        {
            var leaf = name[(name.LastIndexOf('.') + 1)..];
            if (!targets.Contains(leaf))
            {
                continue;
            }

            var parent = model.named_modules().Single(m => m.name == name[..name.LastIndexOf('.')]).module;
            var field = parent.GetType().GetField(leaf, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic);
            Assert.NotNull(field);
            Assert.Equal(typeof(global::TorchSharp.torch.nn.Module<global::TorchSharp.torch.Tensor, global::TorchSharp.torch.Tensor>), field!.FieldType);
            Assert.Same(module, field.GetValue(parent));
        }
    }

    [Fact]
    public void Random_init_is_seeded_and_follows_the_reference_scheme()
    {
        using var a = T.Create(seed: 3);
        using var b = T.Create(seed: 3);
        using var c = T.Create(seed: 4);
        var pa = a.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var pb = b.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var pc = c.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, tensor) in pa)
        {
            Assert.True(tensor.allclose(pb[name], rtol: 0, atol: 0), $"{name} differs between two models with the same seed");
        }

        Assert.False(pa["model.layers.0.self_attn.q_proj.weight"].allclose(pc["model.layers.0.self_attn.q_proj.weight"]));
        Assert.Equal(1f, pa["model.norm.weight"].min().item<float>());
        Assert.Equal(1f, pa["visual.blocks.0.norm1.weight"].max().item<float>());
        Assert.Equal(0f, pa["visual.blocks.0.norm1.bias"].abs().max().item<float>());
        Assert.Equal(0f, pa["model.layers.0.self_attn.q_proj.bias"].abs().max().item<float>());
        var weight = pa["model.layers.0.mlp.up_proj.weight"];
        Assert.InRange(weight.std().item<float>(), 0.17f, 0.23f); // tests draw with std 0.2
        Assert.InRange(weight.mean().item<float>(), -0.02f, 0.02f);
    }
}
