using Vlm2Vec.Hub;

namespace Vlm2Vec.Core.Tests.Hub;

public sealed class HubFileFilterTests
{
    [Theory]
    [InlineData("*.json", "config.json", true)]
    [InlineData("*.json", "eval/mmeb_score.json", true)] // fnmatch: '*' crosses '/'
    [InlineData("*.json", "config.jsonl", false)]
    [InlineData("config.json", "sub/config.json", false)]
    [InlineData("tokenizer*", "tokenizer_config.json", true)]
    [InlineData("model-0000?-of-00002.safetensors", "model-00001-of-00002.safetensors", true)]
    [InlineData("model-0000?-of-00002.safetensors", "model-00010-of-00002.safetensors", false)]
    [InlineData("[!.]*", ".gitattributes", false)]
    [InlineData("[!.]*", "README.md", true)]
    [InlineData("[ab]*.bin", "adapter_model.bin", true)]
    [InlineData("[ab]*.bin", "pytorch_model.bin", false)]
    [InlineData("eval/", "eval/a/b.json", true)] // a folder pattern means everything under it
    [InlineData("eval/", "evaluation.json", false)]
    [InlineData("*.JSON", "config.json", false)] // case-sensitive on every platform
    [InlineData("a+b(c).json", "a+b(c).json", true)] // regex characters are literals
    [InlineData("[abc", "[abc", true)] // an unclosed set is a literal '['
    [InlineData(@"lora\*.json", "lora/adapter_config.json", true)] // backslashes are separators
    public void Patterns_follow_python_fnmatchcase(string pattern, string path, bool expected)
    {
        var filter = new HubFileFilter { Include = [pattern] };

        Assert.Equal(expected, filter.IsMatch(path));
    }

    [Fact]
    public void Exclude_wins_over_include()
    {
        var filter = new HubFileFilter { Include = ["*.json"], Exclude = ["tokenizer*"] };

        Assert.True(filter.IsMatch("config.json"));
        Assert.False(filter.IsMatch("tokenizer_config.json"));
        Assert.True(HubFileFilter.All.IsMatch("anything/at/all.bin"));
    }

    [Fact]
    public void Default_filter_on_the_qwen2_vl_base_takes_config_tokenizer_and_safetensors()
    {
        string[] listing =
        [
            ".gitattributes", "LICENSE", "README.md", "chat_template.json", "config.json", "generation_config.json", "merges.txt",
            "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
            "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json",
        ];

        Assert.Equal(
            [
                "chat_template.json", "config.json", "generation_config.json", "merges.txt", "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors", "model.safetensors.index.json", "preprocessor_config.json", "tokenizer.json",
                "tokenizer_config.json", "vocab.json",
            ],
            Select(HubFileFilter.Vlm2VecModel, listing));
    }

    [Fact]
    public void Default_filter_on_the_2b_dora_adapter_keeps_the_bin_adapter_and_drops_eval_and_trainer_state()
    {
        string[] listing =
        [
            ".gitattributes", "README.md", "adapter_config.json", "adapter_model.bin", "added_tokens.json", "chat_template.json",
            "eval/MSCOCO_i2t_score.json", "eval/N24News_score.json", "merges.txt", "preprocessor_config.json",
            "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "training_args.bin", "vocab.json",
        ];

        Assert.Equal(
            [
                "adapter_config.json", "adapter_model.bin", "added_tokens.json", "chat_template.json", "merges.txt",
                "preprocessor_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.json",
            ],
            Select(HubFileFilter.Vlm2VecModel, listing));
    }

    [Fact]
    public void Default_filter_on_the_7b_checkpoint_keeps_bin_shards_when_no_safetensors_exist()
    {
        string[] listing =
        [
            "adapter_config.json", "adapter_model.bin", "config.json", "lora/adapter_config.json", "lora/adapter_model.bin",
            "pytorch_model-00001-of-00004.bin", "pytorch_model-00002-of-00004.bin", "pytorch_model-00003-of-00004.bin",
            "pytorch_model-00004-of-00004.bin", "pytorch_model.bin.index.json", "tokenizer.json",
        ];

        Assert.Equal(
            [
                "adapter_config.json", "adapter_model.bin", "config.json", "pytorch_model-00001-of-00004.bin",
                "pytorch_model-00002-of-00004.bin", "pytorch_model-00003-of-00004.bin", "pytorch_model-00004-of-00004.bin",
                "pytorch_model.bin.index.json", "tokenizer.json",
            ],
            Select(HubFileFilter.Vlm2VecModel, listing));
    }

    [Fact]
    public void Default_filter_prefers_safetensors_per_kind_when_both_formats_exist()
    {
        string[] listing =
        [
            "adapter_model.bin", "config.json", "model.safetensors", "pytorch_model.bin", "pytorch_model.bin.index.json",
        ];

        // The model weights exist as safetensors, so the .bin copies go; the adapter only exists as .bin, so it stays.
        Assert.Equal(["adapter_model.bin", "config.json", "model.safetensors"], Select(HubFileFilter.Vlm2VecModel, listing));
        Assert.Equal(
            ["adapter_model.safetensors", "config.json"],
            Select(HubFileFilter.Vlm2VecModel, ["adapter_model.bin", "adapter_model.safetensors", "config.json"]));
    }

    private static string[] Select(HubFileFilter filter, string[] listing) =>
        [.. filter.Select(listing, p => p).Order(StringComparer.Ordinal)];
}
