using System.Text;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Text;

/// <summary>
/// Behaviour of the real Qwen2-VL tokenizer on the cases the spec names. Literal expected ids were produced by the Rust
/// Hugging Face tokenizers library (0.23.2) with shared/data/tokenizer/qwen2-vl/tokenizer.json.
/// </summary>
public sealed class Qwen2TokenizerBehaviourTests
{
    private static Qwen2Tokenizer Tokenizer => SharedQwen2Tokenizer.Instance;

    [Fact]
    public void Special_tokens_inside_text_are_matched_whole()
    {
        Assert.Equal([9885, 752, 151655, 437, 151643], Tokenizer.Encode("Find me<|image_pad|>and<|endoftext|>"));
        Assert.Equal([151655, 151655], Tokenizer.Encode("<|image_pad|><|image_pad|>"));
    }

    [Fact]
    public void Special_tokens_have_the_spec_ids()
    {
        (string Token, int Id)[] table =
        [
            ("<|endoftext|>", 151643), ("<|im_start|>", 151644), ("<|im_end|>", 151645), ("<|object_ref_start|>", 151646),
            ("<|object_ref_end|>", 151647), ("<|box_start|>", 151648), ("<|box_end|>", 151649), ("<|quad_start|>", 151650),
            ("<|quad_end|>", 151651), ("<|vision_start|>", 151652), ("<|vision_end|>", 151653), ("<|vision_pad|>", 151654),
            ("<|image_pad|>", 151655), ("<|video_pad|>", 151656),
        ];
        foreach (var (token, id) in table)
        {
            Assert.Equal(id, Tokenizer.TokenToId(token));
            Assert.Equal(token, Tokenizer.IdToToken(id));
            Assert.Equal(id, Tokenizer.AddedTokens[token]);
            Assert.True(Tokenizer.IsSpecialToken(id));
            Assert.Equal([id], Tokenizer.Encode(token));
        }

        Assert.Equal(14, Tokenizer.AddedTokens.Count);
    }

    [Fact]
    public void Sizes_and_config_values_match_Qwen2_VL()
    {
        Assert.Equal(151_657, Tokenizer.VocabularySize);
        Assert.Equal(151_656, Tokenizer.MaxTokenId);
        Assert.Equal("<|endoftext|>", Tokenizer.PadToken);
        Assert.Equal(151643, Tokenizer.PadTokenId);
        Assert.Equal("<|im_end|>", Tokenizer.EosToken);
        Assert.Equal(151645, Tokenizer.EosTokenId);
        Assert.Null(Tokenizer.BosToken);
        Assert.Equal(32768, Tokenizer.ModelMaxLength);
        Assert.Equal(PaddingSide.Left, Tokenizer.PaddingSide);
        Assert.False(Tokenizer.SplitSpecialTokens);
        Assert.Null(Tokenizer.IdToToken(151_700));
        Assert.Null(Tokenizer.IdToToken(-1));
        Assert.Equal(8251, Tokenizer.TokenToId("Ġcat"));
        Assert.Null(Tokenizer.TokenToId(" cat"));
    }

    [Fact]
    public void Text_is_NFC_normalized_before_BPE()
    {
        Assert.Equal([963], Tokenizer.Encode("e\u0301"));
        Assert.Equal([963], Tokenizer.Encode("\u00E9"));
        Assert.Equal("\u00E9", Tokenizer.Decode(Tokenizer.Encode("e\u0301")));
    }

    [Fact]
    public void Empty_text_gives_no_ids()
    {
        Assert.Empty(Tokenizer.Encode(string.Empty));
        Assert.Equal(0, Tokenizer.CountTokens(string.Empty));
        Assert.True(Tokenizer.TryEncode(ReadOnlySpan<char>.Empty, Span<int>.Empty, out var written));
        Assert.Equal(0, written);
        Assert.Equal(string.Empty, Tokenizer.Decode(ReadOnlySpan<int>.Empty));
    }

    [Fact]
    public void Digits_are_split_one_by_one()
    {
        Assert.Equal([17, 15, 17, 19, 12, 15, 16, 12, 15, 16, 25, 220, 18, 13, 16, 19, 16, 20, 24], Tokenizer.Encode("2024-01-01: 3.14159"));
        var digits = Tokenizer.Encode("0123456789");
        Assert.Equal(10, digits.Length);
        for (var d = 0; d < 10; d++)
        {
            Assert.Equal(Tokenizer.TokenToId(d.ToString(System.Globalization.CultureInfo.InvariantCulture)), digits[d]);
        }
    }

    [Fact]
    public void Emoji_CJK_and_mixed_white_space_match_the_reference()
    {
        Assert.Equal([141334, 72858, 16744, 319, 10225, 220, 379, 271], Tokenizer.Encode("😀 中文\r\n\tx  y\n\n"));
        Assert.Equal([64, 871, 65], Tokenizer.Encode("a\r\n\r\nb"));
        Assert.Equal([145367, 378, 235, 145233, 378, 235, 145665], Tokenizer.Encode("👨‍👩‍👧"));
        Assert.Equal("😀 中文\r\n\tx  y\n\n", Tokenizer.Decode([141334, 72858, 16744, 319, 10225, 220, 379, 271]));
    }

    [Fact]
    public void Very_long_input_encodes_like_its_repeating_parts()
    {
        const int repeats = 40_000;
        var text = new StringBuilder().Insert(0, "a cat and a dog. ", repeats).ToString();
        var ids = Tokenizer.Encode(text);

        // "a cat and a dog." then " a cat and a dog." repeated, then a final space.
        var first = Tokenizer.Encode("a cat and a dog.");
        var middle = Tokenizer.Encode(" a cat and a dog.");
        Assert.Equal(first.Length + ((repeats - 1) * middle.Length) + 1, ids.Length);
        Assert.Equal(first, ids[..first.Length]);
        Assert.Equal(middle, ids[^(middle.Length + 1)..^1]);
        Assert.Equal(220, ids[^1]);
        Assert.Equal(ids.Length, Tokenizer.CountTokens(text));
        Assert.Equal(text, Tokenizer.Decode(ids));
    }

    [Fact]
    public void A_long_word_without_spaces_round_trips()
    {
        var random = new Random(7);
        var chars = new char[200_000];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)('a' + random.Next(26));
        }

        var text = new string(chars);
        var ids = Tokenizer.Encode(text);
        Assert.InRange(ids.Length, text.Length / 8, text.Length);
        Assert.Equal(text, Tokenizer.Decode(ids));
    }

    [Fact]
    public void The_span_and_list_overloads_agree_with_Encode()
    {
        const string text = "<|vision_start|><|image_pad|><|vision_end|>Describe this image.\n";
        var expected = Tokenizer.Encode(text);

        var list = new List<int> { -5 };
        Assert.Equal(expected.Length, Tokenizer.Encode(text, list));
        Assert.Equal([-5, .. expected], list);

        var buffer = new int[expected.Length];
        Assert.True(Tokenizer.TryEncode(text, buffer, out var written));
        Assert.Equal(expected.Length, written);
        Assert.Equal(expected, buffer);

        var small = new int[expected.Length - 1];
        Assert.False(Tokenizer.TryEncode(text, small, out written));
        Assert.Equal(0, written);

        Assert.Equal(expected.Length, Tokenizer.CountTokens(text));
        Assert.Equal(expected.Length, Tokenizer.CountTokens(text, parseSpecialTokens: true));
    }

    [Fact]
    public void Special_tokens_can_be_kept_as_text_for_untrusted_input()
    {
        var ids = Tokenizer.Encode("<|image_pad|>", parseSpecialTokens: false);
        Assert.DoesNotContain(151655, ids);
        Assert.True(ids.Length > 1);
        Assert.Equal("<|image_pad|>", Tokenizer.Decode(ids));
        Assert.Equal(ids.Length, Tokenizer.CountTokens("<|image_pad|>", parseSpecialTokens: false));
    }

    [Fact]
    public void Decode_skips_special_tokens_on_request()
    {
        var ids = Tokenizer.Encode("<|im_start|>user\nhi<|im_end|>");
        Assert.Equal("<|im_start|>user\nhi<|im_end|>", Tokenizer.Decode(ids));
        Assert.Equal("user\nhi", Tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Decode_skips_ids_without_a_token_and_refuses_negative_ids()
    {
        Assert.Equal("A cat", Tokenizer.Decode([32, 151_700, 8251]));
        Assert.Throws<InvalidInputException>(() => Tokenizer.Decode([32, -1]));
    }

    [Fact]
    public void Unpaired_surrogates_are_refused()
    {
        var error = Assert.Throws<InvalidInputException>(() => Tokenizer.Encode("ok \uD800 no"));
        Assert.Contains("index 3", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidInputException>(() => Tokenizer.Encode("\uDC00"));
        Assert.Throws<InvalidInputException>(() => Tokenizer.CountTokens("x\uD83D"));
    }

    [Fact]
    public void Encoding_does_not_depend_on_the_merge_cache()
    {
        var uncached = Qwen2Tokenizer.FromFolder(SharedQwen2Tokenizer.Folder, new Qwen2TokenizerOptions { MergeCacheCapacity = 0 });
        const string text = "A man riding a wave on top of a surfboard. Two dogs; 3 cats! naïve café 中文 😀";
        Assert.Equal(Tokenizer.Encode(text), uncached.Encode(text));
        Assert.Equal(0, uncached.CachedPieceCount);
    }

    [Fact]
    public void The_merge_cache_stays_within_its_capacity()
    {
        var json = Encoding.UTF8.GetBytes(TinyTokenizerFiles.Json());
        var tokenizer = Qwen2Tokenizer.FromJson(json, options: new Qwen2TokenizerOptions { MergeCacheCapacity = 5 });
        var unbounded = Qwen2Tokenizer.FromJson(json);
        const string text = "one two three four five six seven eight nine ten";
        var ids = tokenizer.Encode(text);
        Assert.Equal(5, tokenizer.CachedPieceCount);
        Assert.Equal(unbounded.Encode(text), ids);
        Assert.Equal(10, unbounded.CachedPieceCount);
        Assert.Equal(ids, tokenizer.Encode(text));
        tokenizer.ClearMergeCache();
        Assert.Equal(0, tokenizer.CachedPieceCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Qwen2TokenizerOptions { MergeCacheCapacity = -1 });
    }

    [Fact]
    public void Both_merge_paths_agree_on_random_words()
    {
        // Words up to 64 symbols are merged by rescanning; longer ones with a heap. Both must apply the same merges.
        var model = Tokenizer.Model;
        var random = new Random(11);
        string[] alphabet = ["a", "b", "e", "t", "h", "in", "er", " ", "1", "é", "中", "😀", "'s", "ing", "tion", "."];
        for (var trial = 0; trial < 300; trial++)
        {
            var word = new StringBuilder();
            var parts = random.Next(1, 40);
            for (var i = 0; i < parts; i++)
            {
                word.Append(alphabet[random.Next(alphabet.Length)]);
            }

            var bytes = Encoding.UTF8.GetBytes(word.ToString());
            var symbols = new int[bytes.Length];
            for (var i = 0; i < bytes.Length; i++)
            {
                symbols[i] = Tokenizer.TokenToId(ByteLevelToken(bytes[i]))!.Value;
            }

            var small = (int[])symbols.Clone();
            var large = (int[])symbols.Clone();
            var smallCount = symbols.Length <= 64 ? model.MergeSmall(small, symbols.Length) : -1;
            var largeCount = model.MergeLarge(large, symbols.Length);
            var viaEncode = model.MergeBytes(bytes, new int[bytes.Length]);
            Assert.Equal(largeCount, viaEncode);
            if (smallCount >= 0)
            {
                Assert.Equal(large[..largeCount], small[..smallCount]);
            }
        }
    }

    [Fact]
    public void Parallel_encoding_gives_the_serial_results()
    {
        var captions = CocoCaptions();
        var serial = captions.Select(Tokenizer.Encode).ToArray();

        // A fresh tokenizer, so threads race on filling the merge cache as well as reading it.
        var shared = Qwen2Tokenizer.FromFolder(SharedQwen2Tokenizer.Folder);
        var parallel = new int[captions.Length][];
        Parallel.For(0, captions.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var index = i % captions.Length;
            var ids = shared.Encode(captions[index]);
            if (i < captions.Length)
            {
                parallel[index] = ids;
            }
            else
            {
                Assert.Equal(serial[index], ids);
            }
        });

        for (var i = 0; i < captions.Length; i++)
        {
            Assert.Equal(serial[i], parallel[i]);
        }
    }

    private static string ByteLevelToken(byte value)
    {
        var printable = (value >= '!' && value <= '~') || (value >= 0xA1 && value <= 0xAC) || value >= 0xAE;
        if (printable)
        {
            return ((char)value).ToString();
        }

        var n = 0;
        for (var x = 0; x < value; x++)
        {
            if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE))
            {
                n++;
            }
        }

        return ((char)(0x100 + n)).ToString();
    }

    private static string[] CocoCaptions()
    {
        var path = Vlm2Vec.TestSupport.SharedData.Path("captions", "coco-mini", "captions.jsonl");
        var captions = new List<string>();
        foreach (var line in File.ReadLines(path))
        {
            using var document = System.Text.Json.JsonDocument.Parse(line);
            foreach (var caption in document.RootElement.GetProperty("captions").EnumerateArray())
            {
                captions.Add(caption.GetString()!);
            }
        }

        Assert.Equal(1195, captions.Count);
        return [.. captions];
    }
}
