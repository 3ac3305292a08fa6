using Vlm2Vec.TorchSharp.Peft;

namespace Vlm2Vec.TorchSharp.Tests.Peft;

public sealed class LoraConfigTests
{
    private const string PeftWritten = """
        {
          "alpha_pattern": {},
          "auto_mapping": null,
          "base_model_name_or_path": "Qwen/Qwen2-VL-2B-Instruct",
          "bias": "none",
          "fan_in_fan_out": false,
          "inference_mode": true,
          "init_lora_weights": "gaussian",
          "layer_replication": null,
          "layers_pattern": null,
          "layers_to_transform": null,
          "loftq_config": {},
          "lora_alpha": 64,
          "lora_dropout": 0.1,
          "megatron_config": null,
          "megatron_core": "megatron.core",
          "modules_to_save": null,
          "peft_type": "LORA",
          "r": 8,
          "rank_pattern": {},
          "revision": null,
          "target_modules": ["o_proj", "q_proj", "qkv_proj", "down_proj", "v_proj", "gate_up_proj", "out_proj", "k_proj"],
          "task_type": null,
          "use_dora": true,
          "use_rslora": false
        }
        """;

    [Fact]
    public void Parses_a_config_as_PEFT_writes_it()
    {
        var config = LoraConfig.Parse(PeftWritten);
        Assert.True(config.UseDora);
        Assert.Equal(8, config.R);
        Assert.Equal(64, config.LoraAlpha);
        Assert.Equal(0.1, config.LoraDropout);
        Assert.Equal("gaussian", config.InitLoraWeights);
        Assert.Equal("Qwen/Qwen2-VL-2B-Instruct", config.BaseModelNameOrPath);
        Assert.Equal(8, config.TargetModules!.Count);
        Assert.Equal(8.0, config.ScalingFor("model.layers.0.self_attn.q_proj"));
    }

    [Theory]
    [InlineData("model.layers.0.self_attn.q_proj", true)]
    [InlineData("model.layers.27.self_attn.k_proj", true)]
    [InlineData("model.layers.3.self_attn.v_proj", true)]
    [InlineData("model.layers.3.self_attn.o_proj", true)]
    [InlineData("model.layers.3.mlp.down_proj", true)]
    [InlineData("model.language_model.layers.3.mlp.down_proj", true)]
    [InlineData("model.layers.3.mlp.gate_proj", false)]
    [InlineData("model.layers.3.mlp.up_proj", false)]
    [InlineData("visual.blocks.0.attn.qkv", false)]
    [InlineData("visual.blocks.0.attn.proj", false)]
    [InlineData("visual.blocks.0.mlp.fc1", false)]
    [InlineData("visual.blocks.0.mlp.fc2", false)]
    [InlineData("visual.merger.mlp.0", false)]
    [InlineData("lm_head", false)]
    [InlineData("model.layers.3.self_attn.xq_proj", false)]
    public void V1_targets_hit_the_language_model_attention_and_down_proj_only(string module, bool targeted) =>
        Assert.Equal(targeted, LoraConfig.Vlm2VecV1.IsTargeted(module));

    [Theory]
    [InlineData("model.layers.3.mlp.gate_proj", true)]
    [InlineData("model.layers.3.mlp.up_proj", true)]
    [InlineData("model.layers.3.self_attn.q_proj", true)]
    [InlineData("visual.blocks.0.attn.qkv", false)]
    [InlineData("visual.blocks.0.mlp.fc2", false)]
    public void V2_targets_add_gate_and_up(string module, bool targeted) =>
        Assert.Equal(targeted, LoraConfig.Vlm2VecV2.IsTargeted(module));

    [Fact]
    public void Presets_follow_the_spec()
    {
        Assert.Equal((8, 64.0, 0.1, true, "gaussian"), (LoraConfig.Vlm2VecV1.R, LoraConfig.Vlm2VecV1.LoraAlpha, LoraConfig.Vlm2VecV1.LoraDropout, LoraConfig.Vlm2VecV1.UseDora, LoraConfig.Vlm2VecV1.InitLoraWeights));
        Assert.Equal((16, 64.0, 0.1, true), (LoraConfig.Vlm2VecV2.R, LoraConfig.Vlm2VecV2.LoraAlpha, LoraConfig.Vlm2VecV2.LoraDropout, LoraConfig.Vlm2VecV2.UseDora));
        Assert.Equal(4.0, LoraConfig.Vlm2VecV2.ScalingFor("model.layers.0.mlp.up_proj"));
        Assert.Equal(10, LoraConfig.Vlm2VecV2.TargetModules!.Count);
    }

    [Fact]
    public void Regex_targets_must_match_the_whole_name()
    {
        var config = LoraConfig.Parse("""{"peft_type":"LORA","r":4,"target_modules":".*layers\\.1\\..*(q_proj|v_proj)"}""");
        Assert.True(config.IsTargeted("model.layers.1.self_attn.q_proj"));
        Assert.False(config.IsTargeted("model.layers.0.self_attn.q_proj"));
        Assert.False(config.IsTargeted("model.layers.1.self_attn.q_proj.extra"));

        var allLinear = LoraConfig.Parse("""{"peft_type":"LORA","target_modules":"all-linear"}""");
        Assert.True(allLinear.IsTargeted("visual.blocks.0.attn.qkv"));
        Assert.False(allLinear.IsTargeted("lm_head"));
    }

    [Fact]
    public void Rank_and_alpha_patterns_and_rslora_set_the_scaling()
    {
        var config = LoraConfig.Parse("""
            {"peft_type":"LORA","r":8,"lora_alpha":16,"use_rslora":true,"target_modules":["q_proj","down_proj"],
             "rank_pattern":{"down_proj":4},"alpha_pattern":{"layers\\.1\\.self_attn\\.q_proj":32},
             "exclude_modules":["layers.2.self_attn.q_proj"]}
            """);
        Assert.Equal(4, config.RankFor("model.layers.0.mlp.down_proj"));
        Assert.Equal(8, config.RankFor("model.layers.0.self_attn.q_proj"));
        Assert.Equal(16.0 / Math.Sqrt(4), config.ScalingFor("model.layers.0.mlp.down_proj"));
        Assert.Equal(32.0 / Math.Sqrt(8), config.ScalingFor("model.layers.1.self_attn.q_proj"));
        Assert.Equal(16.0 / Math.Sqrt(8), config.ScalingFor("model.layers.0.self_attn.q_proj"));
        Assert.False(config.IsTargeted("model.layers.2.self_attn.q_proj"));
        Assert.True(config.IsTargeted("model.layers.12.self_attn.q_proj"));
    }

    [Fact]
    public void Json_round_trip_keeps_every_setting()
    {
        var original = LoraConfig.Vlm2VecV1 with
        {
            RankPattern = new Dictionary<string, int> { ["down_proj"] = 4 },
            AlphaPattern = new Dictionary<string, double> { ["q_proj"] = 3.5 },
            UseRslora = true,
        };
        var json = original.ToJson();
        Assert.Contains("\"peft_type\": \"LORA\"", json, StringComparison.Ordinal);
        Assert.Contains("\"lora_alpha\": 64", json, StringComparison.Ordinal);
        var back = LoraConfig.Parse(json);
        Assert.Equal(original.R, back.R);
        Assert.Equal(original.LoraAlpha, back.LoraAlpha);
        Assert.Equal(original.LoraDropout, back.LoraDropout);
        Assert.Equal(original.UseDora, back.UseDora);
        Assert.Equal(original.UseRslora, back.UseRslora);
        Assert.Equal(original.InitLoraWeights, back.InitLoraWeights);
        Assert.Equal(original.BaseModelNameOrPath, back.BaseModelNameOrPath);
        Assert.Equal(original.TargetModules, back.TargetModules);
        Assert.Equal(4, back.RankPattern["down_proj"]);
        Assert.Equal(3.5, back.AlphaPattern["q_proj"]);
    }

    [Theory]
    [InlineData("""{"peft_type":"IA3"}""", "only LORA")]
    [InlineData("""{"r":8}""", "no peft_type")]
    [InlineData("""{"peft_type":"LORA","r":0}""", "'r'")]
    [InlineData("""{"peft_type":"LORA","lora_dropout":1.5}""", "lora_dropout")]
    [InlineData("""{"peft_type":"LORA","target_modules":5}""", "target_modules")]
    [InlineData("""{"peft_type":"LORA","rank_pattern":{"q_proj":"x"}}""", "rank_pattern")]
    [InlineData("""{"peft_type":"LORA",""", "not valid JSON")]
    public void Invalid_configs_are_refused_with_the_key_named(string json, string expected)
    {
        var ex = Assert.Throws<ModelFormatException>(() => LoraConfig.Parse(json));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
