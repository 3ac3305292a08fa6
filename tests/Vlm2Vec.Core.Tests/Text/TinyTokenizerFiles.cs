using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vlm2Vec.Core.Tests.Text;

/// <summary>
/// A tiny byte-level BPE tokenizer.json with ids nothing like Qwen's: four special tokens at ids 0–3, the 256 byte
/// tokens shuffled over ids 4–259, a dozen merges, and added tokens with every flag (lstrip, rstrip, single_word,
/// normalized, non-special). Expected encodings in <see cref="TinyTokenizerTests"/> come from the Rust Hugging Face
/// tokenizers library run on exactly this JSON.
/// </summary>
internal static class TinyTokenizerFiles
{
    public static readonly (string Left, string Right)[] Merges =
    [
        ("Ġ", "c"), ("a", "t"), ("Ġc", "at"), ("Ġ", "Ġ"), ("ĠĠ", "ĠĠ"), ("h", "e"), ("Ġ", "t"), ("Ġt", "he"),
        ("1", "2"), ("Ã", "©"), ("c", "a"), ("ca", "f"), ("caf", "Ã©"),
    ];

    /// <summary>Added tokens beyond the four specials: (content, special, lstrip, rstrip, single_word, normalized).</summary>
    public static readonly (string Content, bool Special, bool LeftStrip, bool RightStrip, bool SingleWord, bool Normalized)[] ExtraAddedTokens =
    [
        ("<mask>", true, true, false, false, false),
        ("[SEP]", false, false, true, false, false),
        ("dog", false, false, false, true, true),
        ("caf\u00E9", false, false, false, false, true),
        ("<|im", false, false, false, false, false),
    ];

    public static readonly string[] Specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|image_pad|>"];

    /// <summary>The byte-level character of a byte (the GPT-2 map), computed independently of the library.</summary>
    public static char ByteChar(int b)
    {
        var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable)
        {
            return (char)b;
        }

        var n = 0;
        for (var x = 0; x < b; x++)
        {
            var p = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
            if (!p)
            {
                n++;
            }
        }

        return (char)(0x100 + n);
    }

    public static int ByteId(int b) => 4 + (b * 167 % 256);

    public static int VocabularyCount => Specials.Length + 256 + Merges.Length;

    public static string Json()
    {
        var vocab = new JsonObject();
        for (var i = 0; i < Specials.Length; i++)
        {
            vocab[Specials[i]] = i;
        }

        // Byte tokens in id order.
        var byId = new SortedDictionary<int, string>();
        for (var b = 0; b < 256; b++)
        {
            byId[ByteId(b)] = ByteChar(b).ToString();
        }

        foreach (var (id, token) in byId)
        {
            vocab[token] = id;
        }

        var next = 4 + 256;
        foreach (var (left, right) in Merges)
        {
            vocab[left + right] = next++;
        }

        var added = new JsonArray();
        for (var i = 0; i < Specials.Length; i++)
        {
            added.Add(AddedToken(i, Specials[i], special: true, false, false, false, normalized: false));
        }

        foreach (var t in ExtraAddedTokens)
        {
            added.Add(AddedToken(next++, t.Content, t.Special, t.LeftStrip, t.RightStrip, t.SingleWord, t.Normalized));
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["type"] = "Split",
                        ["pattern"] = new JsonObject
                        {
                            ["Regex"] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
                        },
                        ["behavior"] = "Isolated",
                        ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false },
                },
            },
            ["post_processor"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray([.. Merges.Select(m => (JsonNode?)JsonValue.Create(m.Left + " " + m.Right))]),
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public static string ConfigJson() =>
        """
        {
          "tokenizer_class": "Qwen2Tokenizer",
          "pad_token": "<|endoftext|>",
          "eos_token": {"content": "<|im_end|>", "special": true},
          "bos_token": null,
          "model_max_length": 128,
          "padding_side": "right",
          "split_special_tokens": false
        }
        """;

    public static string WriteTo(string folder)
    {
        var path = Path.Combine(folder, "tokenizer.json");
        File.WriteAllText(path, Json(), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), ConfigJson(), new UTF8Encoding(false));
        return path;
    }

    private static JsonObject AddedToken(int id, string content, bool special, bool lstrip, bool rstrip, bool singleWord, bool normalized) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = singleWord,
        ["lstrip"] = lstrip,
        ["rstrip"] = rstrip,
        ["normalized"] = normalized,
        ["special"] = special,
    };
}
