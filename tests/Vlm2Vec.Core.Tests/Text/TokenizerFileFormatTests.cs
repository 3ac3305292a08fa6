using System.Text;
using System.Text.Json.Nodes;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Text;

/// <summary>The other ways to load a tokenizer, and files that must be refused with a message naming the problem.</summary>
public sealed class TokenizerFileFormatTests : IDisposable
{
    private readonly TempFolder _folder = new("tokenizer-format");

    [Fact]
    public void A_vocab_and_merges_folder_encodes_like_tokenizer_json()
    {
        foreach (var name in new[] { "vocab.json", "merges.txt", "tokenizer_config.json" })
        {
            File.Copy(Path.Combine(SharedQwen2Tokenizer.Folder, name), _folder.Combine(name));
        }

        var fromPair = Qwen2Tokenizer.FromFolder(_folder.Path);
        var reference = SharedQwen2Tokenizer.Instance;
        Assert.Equal(reference.VocabularySize, fromPair.VocabularySize);
        Assert.Equal(reference.MaxTokenId, fromPair.MaxTokenId);
        Assert.Equal(reference.PadTokenId, fromPair.PadTokenId);
        Assert.Equal(reference.AddedTokens.OrderBy(p => p.Value), fromPair.AddedTokens.OrderBy(p => p.Value));

        string[] texts =
        [
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|vision_start|><|image_pad|><|vision_end|>",
            "e\u0301 naïve 中文 😀 𠮷野家 2024 don't  \r\n\t", "<think>",
        ];
        foreach (var text in texts)
        {
            Assert.Equal(reference.Encode(text), fromPair.Encode(text));
        }
    }

    [Fact]
    public void FromJson_reads_the_same_bytes_as_FromFile()
    {
        var json = File.ReadAllBytes(Path.Combine(SharedQwen2Tokenizer.Folder, "tokenizer.json"));
        var config = File.ReadAllBytes(Path.Combine(SharedQwen2Tokenizer.Folder, "tokenizer_config.json"));
        var tokenizer = Qwen2Tokenizer.FromJson(json, config);
        Assert.Equal(SharedQwen2Tokenizer.Instance.Encode("A cat and a dog"), tokenizer.Encode("A cat and a dog"));
        Assert.Equal(151643, tokenizer.PadTokenId);
    }

    [Fact]
    public void Missing_files_and_folders_are_reported()
    {
        var missingFile = Assert.Throws<ModelFormatException>(() => Qwen2Tokenizer.FromFile(_folder.Combine("nope.json")));
        Assert.Contains("nope.json", missingFile.Message, StringComparison.Ordinal);
        Assert.Throws<ModelFormatException>(() => Qwen2Tokenizer.FromFolder(_folder.Combine("absent")));
        var empty = Assert.Throws<ModelFormatException>(() => Qwen2Tokenizer.FromFolder(_folder.Path));
        Assert.Contains("vocab.json + merges.txt", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_json_is_refused()
    {
        var error = Assert.Throws<ModelFormatException>(() => Load("{ \"model\": "));
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.Throws<ModelFormatException>(() => Load("[1, 2, 3]"));
        Assert.Throws<ModelFormatException>(() => Load("{\"version\": \"1.0\"}"));
    }

    public static TheoryData<string, string> UnsupportedEdits() => new()
    {
        { "model.type=WordPiece", "WordPiece" },
        { "model.dropout=0.1", "dropout" },
        { "model.byte_fallback=true", "byte_fallback" },
        { "model.continuing_subword_prefix=##", "continuing_subword_prefix" },
        { "model.vocab=[]", "vocab" },
        { "model.merges=42", "merges" },
        { "model.merges+=zz qq", "zz" },
        { "model.merges+=a b c", "merge #" },
        { "normalizer=Lowercase", "Lowercase" },
        { "pre_tokenizer=Metaspace", "Metaspace" },
        { "pre_tokenizer=null", "ByteLevel" },
        { "pre_tokenizer.split.behavior=Removed", "Removed" },
        { "pre_tokenizer.split.invert=true", "invert" },
        { "pre_tokenizer.split.pattern=(", "pattern" },
        { "pre_tokenizer.bytelevel-first", "ByteLevel must come last" },
        { "decoder=WordPiece", "decoder" },
        { "post_processor=TemplateProcessing", "TemplateProcessing" },
        { "version=2.0", "version" },
        { "added_tokens.mask.id=5", "<mask>" },
        { "added_tokens=notalist", "added_tokens" },
        { "vocab.duplicate-id", "more than one token" },
        { "model.unk_token=<unk>", "unk_token" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedEdits))]
    public void Unsupported_or_broken_files_are_refused_with_the_feature_named(string edit, string expectedInMessage)
    {
        var root = JsonNode.Parse(TinyTokenizerFiles.Json())!.AsObject();
        var model = root["model"]!.AsObject();
        var sequence = root["pre_tokenizer"]!["pretokenizers"]!.AsArray();
        switch (edit)
        {
            case "model.type=WordPiece": model["type"] = "WordPiece"; break;
            case "model.dropout=0.1": model["dropout"] = 0.1; break;
            case "model.byte_fallback=true": model["byte_fallback"] = true; break;
            case "model.continuing_subword_prefix=##": model["continuing_subword_prefix"] = "##"; break;
            case "model.vocab=[]": model["vocab"] = new JsonArray(); break;
            case "model.merges=42": model["merges"] = 42; break;
            case "model.merges+=zz qq": model["merges"]!.AsArray().Add("zz qq"); break;
            case "model.merges+=a b c": model["merges"]!.AsArray().Add("a b c"); break;
            case "normalizer=Lowercase": root["normalizer"] = new JsonObject { ["type"] = "Lowercase" }; break;
            case "pre_tokenizer=Metaspace": root["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁" }; break;
            case "pre_tokenizer=null": root["pre_tokenizer"] = null; break;
            case "pre_tokenizer.split.behavior=Removed": sequence[0]!["behavior"] = "Removed"; break;
            case "pre_tokenizer.split.invert=true": sequence[0]!["invert"] = true; break;
            case "pre_tokenizer.split.pattern=(": sequence[0]!["pattern"] = new JsonObject { ["Regex"] = "(" }; break;
            case "pre_tokenizer.bytelevel-first":
                var split = sequence[0]!;
                sequence.RemoveAt(0);
                sequence.Add(split);
                break;
            case "decoder=WordPiece": root["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##" }; break;
            case "post_processor=TemplateProcessing":
                root["post_processor"] = new JsonObject { ["type"] = "TemplateProcessing", ["single"] = new JsonArray() };
                break;
            case "version=2.0": root["version"] = "2.0"; break;
            case "added_tokens.mask.id=5":
                root["added_tokens"]!.AsArray().Single(t => (string?)t!["content"] == "<mask>")!["id"] = 5;
                break;
            case "added_tokens=notalist": root["added_tokens"] = "x"; break;
            case "vocab.duplicate-id": model["vocab"]!["zzz"] = 7; break;
            case "model.unk_token=<unk>": model["unk_token"] = "<unk>"; break;
            default: throw new InvalidOperationException(edit);
        }

        var error = Assert.Throws<ModelFormatException>(() => Load(root.ToJsonString()));
        Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_added_token_landing_on_a_vocabulary_id_is_refused()
    {
        // Vocabulary ids with a gap: the reference would give the added token an id a vocabulary entry already has.
        var root = JsonNode.Parse(TinyTokenizerFiles.Json())!.AsObject();
        var vocab = root["model"]!["vocab"]!.AsObject();
        vocab.Remove("<|endoftext|>");
        foreach (var token in root["added_tokens"]!.AsArray())
        {
            if ((string?)token!["content"] == "<|endoftext|>")
            {
                token["id"] = TinyTokenizerFiles.VocabularyCount - 1;
            }
        }

        var error = Assert.Throws<ModelFormatException>(() => Load(root.ToJsonString()));
        Assert.Contains("already gives id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_tokenizer_config_is_refused()
    {
        var json = Encoding.UTF8.GetBytes(TinyTokenizerFiles.Json());
        var error = Assert.Throws<ModelFormatException>(() =>
            Qwen2Tokenizer.FromJson(json, Encoding.UTF8.GetBytes("{\"padding_side\": \"middle\"}")));
        Assert.Contains("padding_side", error.Message, StringComparison.Ordinal);
        Assert.Throws<ModelFormatException>(() => Qwen2Tokenizer.FromJson(json, Encoding.UTF8.GetBytes("not json")));
        Assert.Throws<ModelFormatException>(() =>
            Qwen2Tokenizer.FromJson(json, Encoding.UTF8.GetBytes("{\"added_tokens_decoder\": {\"x\": {\"content\": \"a\"}}}")));
    }

    [Fact]
    public void Config_tokens_missing_from_tokenizer_json_are_added_like_transformers()
    {
        // A pad token the tokenizer lacks becomes a special added token with the next id; a declared id must agree.
        var json = Encoding.UTF8.GetBytes(TinyTokenizerFiles.Json());
        var tokenizer = Qwen2Tokenizer.FromJson(json, Encoding.UTF8.GetBytes(
            "{\"pad_token\": \"<pad>\", \"added_tokens_decoder\": {\"278\": {\"content\": \"<extra>\", \"special\": true, \"normalized\": false}}}"));
        Assert.Equal(278, tokenizer.TokenToId("<extra>"));
        Assert.Equal(279, tokenizer.PadTokenId);
        Assert.True(tokenizer.IsSpecialToken(279));
        Assert.Equal([279, 278], tokenizer.Encode("<pad><extra>"));

        var mismatch = Assert.Throws<ModelFormatException>(() => Qwen2Tokenizer.FromJson(json, Encoding.UTF8.GetBytes(
            "{\"added_tokens_decoder\": {\"300\": {\"content\": \"<extra>\", \"special\": true}}}")));
        Assert.Contains("declared with id 300", mismatch.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Split_special_tokens_from_the_config_changes_the_default()
    {
        var json = Encoding.UTF8.GetBytes(TinyTokenizerFiles.Json());
        var tokenizer = Qwen2Tokenizer.FromJson(json, Encoding.UTF8.GetBytes("{\"split_special_tokens\": true}"));
        Assert.True(tokenizer.SplitSpecialTokens);
        Assert.DoesNotContain(3, tokenizer.Encode("<|image_pad|>"));
        Assert.Equal([3], tokenizer.Encode("<|image_pad|>".AsSpan(), parseSpecialTokens: true));
    }

    [Fact]
    public void A_gpt2_style_byte_level_pre_tokenizer_is_supported()
    {
        // ByteLevel alone, with its own GPT-2 regex and add_prefix_space: "hello world" → " hello" " world".
        var root = JsonNode.Parse(TinyTokenizerFiles.Json())!.AsObject();
        root["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true };
        var tokenizer = Load(root.ToJsonString());

        // Expected ids: the Rust Hugging Face tokenizers library on this JSON.
        Assert.Equal([267, 262], tokenizer.Encode("the cat"));
        Assert.Equal([1, 267, 262, 2, 267], tokenizer.Encode("<|im_start|>the cat<|im_end|> the"));
        Assert.Equal([228, 267, 138, 138, 153, 261, 117, 9, 228, 268], tokenizer.Encode("  the\n\ncat's 12"));
        Assert.Equal([267], tokenizer.Encode(" the"));
        Assert.Equal(" the cat", tokenizer.Decode([267, 262]));
    }

    private Qwen2Tokenizer Load(string json)
    {
        var path = _folder.Combine($"t-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json, new UTF8Encoding(false));
        return Qwen2Tokenizer.FromFile(path);
    }

    public void Dispose() => _folder.Dispose();
}
