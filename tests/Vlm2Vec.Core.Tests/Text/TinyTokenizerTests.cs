using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Text;

/// <summary>
/// A tiny tokenizer.json written by the test (<see cref="TinyTokenizerFiles"/>) with non-Qwen ids: proves that the
/// vocabulary, merges, added tokens and their flags come from the file. Expected ids, tokens and decodings were produced
/// by the Rust Hugging Face tokenizers library (0.23.2) on exactly this JSON.
/// </summary>
public sealed class TinyTokenizerTests : IDisposable
{
    private readonly TempFolder _folder = new("tiny-tokenizer");
    private readonly Qwen2Tokenizer _tokenizer;

    public TinyTokenizerTests()
    {
        TinyTokenizerFiles.WriteTo(_folder.Path);
        _tokenizer = Qwen2Tokenizer.FromFolder(_folder.Path);
    }

    public static TheoryData<string, int[], string[], string, string> ReferenceCases() => new()
    {
        {
            "<|im_start|>user\n<|image_pad|>a cat<|im_end|>", [1, 87, 9, 231, 98, 138, 3, 75, 262, 2],
            ["<|im_start|>", "u", "s", "e", "r", "Ċ", "<|image_pad|>", "a", "Ġcat", "<|im_end|>"],
            "<|im_start|>user\n<|image_pad|>a cat<|im_end|>", "user\na cat"
        },
        {
            "the cat  sat\n\n  the", [176, 265, 262, 228, 228, 9, 261, 138, 138, 228, 267],
            ["t", "he", "Ġcat", "Ġ", "Ġ", "s", "at", "Ċ", "Ċ", "Ġ", "Ġthe"], "the cat  sat\n\n  the", "the cat  sat\n\n  the"
        },
        {
            // "café" is a normalized added token: matched after NFC, also when written with a combining accent. Its
            // decoding reads é as the byte-level character for 0xE9, which is not UTF-8: the reference gives U+FFFD too.
            "caf\u00E9 and cafe\u0301!", [276, 228, 75, 198, 64, 228, 276, 139],
            ["caf\u00E9", "Ġ", "a", "n", "d", "Ġ", "caf\u00E9", "!"], "caf\uFFFD and caf\uFFFD!", "caf\uFFFD and caf\uFFFD!"
        },
        {
            // lstrip: <mask> takes the space before it.
            "hello <mask> world", [265, 120, 120, 109, 273, 228, 165, 109, 98, 120, 64],
            ["he", "l", "l", "o", "<mask>", "Ġ", "w", "o", "r", "l", "d"], "hello<mask> world", "hello world"
        },
        {
            "x  \t<mask>y", [76, 273, 243], ["x", "<mask>", "y"], "x<mask>y", "xy"
        },
        {
            // rstrip: [SEP] takes the spaces after it; it is not special, so skipping special tokens keeps it.
            "a [SEP]   b", [75, 228, 274, 242], ["a", "Ġ", "[SEP]", "b"], "a [SEP]b", "a [SEP]b"
        },
        {
            // single_word: "dog" only where no word character touches it ("_" is one).
            "dog hotdog dog! dogs _dog", [275, 228, 220, 109, 176, 64, 109, 53, 228, 275, 139, 228, 64, 109, 53, 9, 228, 253, 64, 109, 53],
            ["dog", "Ġ", "h", "o", "t", "d", "o", "g", "Ġ", "dog", "!", "Ġ", "d", "o", "g", "s", "Ġ", "_", "d", "o", "g"],
            "dog hotdog dog! dogs _dog", "dog hotdog dog! dogs _dog"
        },
        {
            // Leftmost-longest: "<|im_end|>" beats its prefix "<|im", which still matches alone.
            "<|im_foo <|im_end|><|im", [277, 253, 142, 109, 109, 228, 2, 277],
            ["<|im", "_", "f", "o", "o", "Ġ", "<|im_end|>", "<|im"], "<|im_foo <|im_end|><|im", "<|im_foo <|im"
        },
        {
            "12 123 x", [251, 162, 228, 251, 162, 73, 228, 76], ["1", "2", "Ġ", "1", "2", "3", "Ġ", "x"], "12 123 x", "12 123 x"
        },
        {
            "\u03A9mega \uD842\uDFB7", [102, 67, 31, 231, 53, 75, 228, 148, 100, 134, 101],
            ["Î", "©", "m", "e", "g", "a", "Ġ", "ð", "ł", "®", "·"], "\u03A9mega \uD842\uDFB7", "\u03A9mega \uD842\uDFB7"
        },
        { "", [], [], "", "" },
        { " ", [228], ["Ġ"], " ", " " },
        { "<|endoftext|><|endoftext|>", [0, 0], ["<|endoftext|>", "<|endoftext|>"], "<|endoftext|><|endoftext|>", "" },
    };

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void Encodes_and_decodes_like_the_reference(string text, int[] ids, string[] tokens, string decoded, string decodedSkippingSpecial)
    {
        Assert.Equal(ids, _tokenizer.Encode(text));
        Assert.Equal(ids.Length, _tokenizer.CountTokens(text));
        Assert.Equal(decoded, _tokenizer.Decode(ids));
        Assert.Equal(decodedSkippingSpecial, _tokenizer.Decode(ids, skipSpecialTokens: true));

        // Token strings: the reference shows the stripped white space inside lstrip/rstrip tokens; ours are the token texts.
        Assert.Equal(tokens, _tokenizer.EncodeToTokens(text));
    }

    [Fact]
    public void Vocabulary_and_added_tokens_come_from_the_file()
    {
        Assert.Equal(278, _tokenizer.VocabularySize);
        Assert.Equal(277, _tokenizer.MaxTokenId);
        Assert.Equal(273, _tokenizer.TokenToId("<mask>"));
        Assert.Equal(274, _tokenizer.TokenToId("[SEP]"));
        Assert.Equal(276, _tokenizer.TokenToId("caf\u00E9"));
        Assert.Equal(277, _tokenizer.TokenToId("<|im"));
        Assert.Equal(3, _tokenizer.TokenToId("<|image_pad|>"));
        Assert.Equal(TinyTokenizerFiles.ByteId(' '), _tokenizer.TokenToId("Ġ"));
        Assert.Equal("Ġcat", _tokenizer.IdToToken(262));
        Assert.Null(_tokenizer.IdToToken(278));
        Assert.Null(_tokenizer.TokenToId("<|vision_start|>"));
        Assert.Equal(9, _tokenizer.AddedTokens.Count);
        Assert.True(_tokenizer.IsSpecialToken(0));
        Assert.True(_tokenizer.IsSpecialToken(273));
        Assert.False(_tokenizer.IsSpecialToken(274));
        Assert.False(_tokenizer.IsSpecialToken(262));
    }

    [Fact]
    public void Config_values_come_from_tokenizer_config()
    {
        Assert.Equal("<|endoftext|>", _tokenizer.PadToken);
        Assert.Equal(0, _tokenizer.PadTokenId);
        Assert.Equal("<|im_end|>", _tokenizer.EosToken);
        Assert.Equal(2, _tokenizer.EosTokenId);
        Assert.Null(_tokenizer.BosToken);
        Assert.Null(_tokenizer.BosTokenId);
        Assert.Equal(128, _tokenizer.ModelMaxLength);
        Assert.Equal(PaddingSide.Right, _tokenizer.PaddingSide);
        Assert.False(_tokenizer.SplitSpecialTokens);
    }

    [Fact]
    public void Without_a_config_the_config_values_are_null()
    {
        var tokenizer = Qwen2Tokenizer.FromFile(_folder.Combine("tokenizer.json"));
        Assert.Null(tokenizer.PadToken);
        Assert.Null(tokenizer.PadTokenId);
        Assert.Null(tokenizer.ModelMaxLength);
        Assert.Null(tokenizer.PaddingSide);
        Assert.Equal([1, 87, 9, 231, 98, 2], tokenizer.Encode("<|im_start|>user<|im_end|>"));
    }

    [Fact]
    public void Special_tokens_can_be_encoded_as_plain_text()
    {
        // As the reference with split_special_tokens: the automaton still finds "<|image_pad|>" at 0 (longest) and skips
        // it, so its prefix "<|im" is not matched there either; the text is pre-tokenized as "<|" "image" "_pad" "|>". The
        // non-special added token [SEP] is still matched (and strips the space after it).
        int[] expected =
        [
            .. Bytes("<|"), .. Bytes("image"), .. Bytes("_pad"), .. Bytes("|>"), 274, TinyTokenizerFiles.ByteId('x'),
        ];
        Assert.Equal(expected, _tokenizer.Encode("<|image_pad|>[SEP] x".AsSpan(), parseSpecialTokens: false));
        Assert.Equal("<|image_pad|>[SEP]x", _tokenizer.Decode(expected));
        Assert.Equal([3, 274, TinyTokenizerFiles.ByteId('x')], _tokenizer.Encode("<|image_pad|>[SEP] x"));
    }

    private static IEnumerable<int> Bytes(string ascii) => ascii.Select(c => TinyTokenizerFiles.ByteId(c));

    public void Dispose() => _folder.Dispose();
}
