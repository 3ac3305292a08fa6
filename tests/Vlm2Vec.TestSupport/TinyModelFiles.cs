using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vlm2Vec.TestSupport;

/// <summary>
/// Writes the non-weight files a bundle needs for a tiny model whose checkpoint has none: a byte-level BPE
/// <c>tokenizer.json</c> whose special tokens carry the config's ids and whose ids all fit the model's vocabulary, a
/// <c>tokenizer_config.json</c>, and a Qwen2-VL <c>preprocessor_config.json</c>.
/// </summary>
public static class TinyModelFiles
{
    /// <summary>
    /// Writes the files for a model with <paramref name="vocabSize"/> embedding rows whose special ids are given as
    /// (pad, vision_start, vision_end, vision_pad, image, video).
    /// </summary>
    public static string WriteTokenizerFolder(string folder, int vocabSize, int padTokenId, int visionStartTokenId, int visionEndTokenId, int visionTokenId, int imageTokenId, int videoTokenId)
    {
        Directory.CreateDirectory(folder);
        var specials = new (string Token, int Id)[]
        {
            ("<|endoftext|>", padTokenId),
            ("<|vision_start|>", visionStartTokenId),
            ("<|vision_end|>", visionEndTokenId),
            ("<|vision_pad|>", visionTokenId),
            ("<|image_pad|>", imageTokenId),
            ("<|video_pad|>", videoTokenId),
        };
        // HF gives an added token its vocabulary id when its text is in the vocabulary: put the specials there with the
        // config's ids, bytes on the free ids from 0 (as many as the embedding table has room for), fillers in any gap.
        var taken = specials.ToDictionary(s => s.Id, s => s.Token);
        var vocab = new JsonObject();
        var lastId = Math.Max(taken.Keys.Max(), Math.Min(vocabSize, 256 + taken.Count) - 1);
        var nextByte = 0;
        for (var id = 0; id <= lastId; id++)
        {
            if (taken.TryGetValue(id, out var special))
            {
                vocab[special] = id;
            }
            else if (nextByte < 256)
            {
                vocab[ByteChar(nextByte++).ToString()] = id;
            }
            else
            {
                vocab[$"<|filler_{id}|>"] = id;
            }
        }

        var added = new JsonArray([.. specials.Select(s => (JsonNode)new JsonObject
        {
            ["id"] = s.Id, ["content"] = s.Token, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
        })]);
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
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
                        ["pattern"] = new JsonObject { ["Regex"] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
                        ["behavior"] = "Isolated",
                        ["invert"] = false,
                    },
                    byteLevel.DeepClone(),
                },
            },
            ["post_processor"] = byteLevel.DeepClone(),
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray() },
        };
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), tokenizer.ToJsonString(options));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), new JsonObject
        {
            ["tokenizer_class"] = "Qwen2Tokenizer", ["pad_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["padding_side"] = "left", ["model_max_length"] = 32768,
        }.ToJsonString(options));
        WritePreprocessorConfig(folder);
        return folder;
    }

    public static void WritePreprocessorConfig(string folder) =>
        File.WriteAllText(Path.Combine(folder, "preprocessor_config.json"), """
        {
          "min_pixels": 3136,
          "max_pixels": 12845056,
          "patch_size": 14,
          "temporal_patch_size": 2,
          "merge_size": 2,
          "image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_std": [0.26862954, 0.26130258, 0.27577711],
          "image_processor_type": "Qwen2VLImageProcessor",
          "processor_class": "Qwen2VLProcessor"
        }
        """);

    /// <summary>The GPT-2 byte-level character of a byte.</summary>
    private static char ByteChar(int b)
    {
        static bool Printable(int x) => (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
        if (Printable(b))
        {
            return (char)b;
        }

        var n = 0;
        for (var x = 0; x < b; x++)
        {
            n += Printable(x) ? 0 : 1;
        }

        return (char)(0x100 + n);
    }
}
