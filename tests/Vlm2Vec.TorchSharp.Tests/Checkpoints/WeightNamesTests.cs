using Vlm2Vec.TorchSharp.Checkpoints;

namespace Vlm2Vec.TorchSharp.Tests.Checkpoints;

public sealed class WeightNamesTests
{
    [Theory]
    [InlineData("model.layers.3.self_attn.q_proj.weight", "model.layers.3.self_attn.q_proj.weight")]
    [InlineData("model.language_model.layers.3.self_attn.q_proj.weight", "model.layers.3.self_attn.q_proj.weight")]
    [InlineData("model.language_model.embed_tokens.weight", "model.embed_tokens.weight")]
    [InlineData("model.language_model.norm.weight", "model.norm.weight")]
    [InlineData("model.visual.blocks.0.attn.qkv.weight", "visual.blocks.0.attn.qkv.weight")]
    [InlineData("visual.merger.mlp.0.weight", "visual.merger.mlp.0.weight")]
    [InlineData("lm_head.weight", "lm_head.weight")]
    [InlineData("base_model.model.model.layers.0.mlp.down_proj.weight", "model.layers.0.mlp.down_proj.weight")]
    [InlineData("base_model.model.model.language_model.layers.0.mlp.down_proj.weight", "model.layers.0.mlp.down_proj.weight")]
    [InlineData("base_model.model.visual.patch_embed.proj.weight", "visual.patch_embed.proj.weight")]
    public void Any_layout_maps_to_the_classic_names(string stored, string canonical) =>
        Assert.Equal(canonical, WeightNames.ToCanonical(stored));

    [Theory]
    [InlineData("model.layers.3.self_attn.q_proj.weight", "model.language_model.layers.3.self_attn.q_proj.weight")]
    [InlineData("model.embed_tokens.weight", "model.language_model.embed_tokens.weight")]
    [InlineData("visual.blocks.0.attn.qkv.weight", "model.visual.blocks.0.attn.qkv.weight")]
    [InlineData("lm_head.weight", "lm_head.weight")]
    public void Classic_names_map_to_the_nested_layout_and_back(string canonical, string nested)
    {
        Assert.Equal(nested, WeightNames.ToLayout(canonical, WeightNameLayout.Nested));
        Assert.Equal(canonical, WeightNames.ToLayout(canonical, WeightNameLayout.Classic));
        Assert.Equal(canonical, WeightNames.ToCanonical(nested));
    }
}
