using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Text;

/// <summary>
/// The hand-written Qwen2 pre-tokenizer scanner against .NET's regex engine (which agrees with the reference inside the
/// Basic Multilingual Plane) and against the reference's own splits outside it.
/// </summary>
public sealed class Qwen2PatternScannerTests
{
    private static readonly string[] Fragments =
    [
        "a", "Zeb", "é", "ß", "中", "ア", "한", "Ω", "ʰ", "ǅ", "1", "42", "٣", "½", "Ⅻ", "²", " ", "  ", "\t", "\n", "\r", "\r\n",
        "\v", "\f", "\u0085", "\u00A0", "\u2028", "\u3000", "\u200B", "'", "'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'d",
        "'x", ".", "...", "!?", "-", "_", "<|", "|>", "\u0301", "\u0000", "\u007F", "$", "€", "\uFFFD",
    ];

    // U+017F (long s) is left out: the reference's (?i:'s) matches "'ſ", .NET's IgnoreCase does not (a case below).
    [Fact]
    public void Splits_like_the_regex_on_random_BMP_text()
    {
        var regex = new Regex(Qwen2PatternScanner.Qwen2Pattern, RegexOptions.CultureInvariant);
        var cl100k = new Regex(Qwen2PatternScanner.Cl100kPattern, RegexOptions.CultureInvariant);
        var random = new Random(3);
        for (var trial = 0; trial < 5000; trial++)
        {
            var text = new StringBuilder();
            var parts = random.Next(1, 16);
            for (var i = 0; i < parts; i++)
            {
                text.Append(Fragments[random.Next(Fragments.Length)]);
            }

            var s = text.ToString();
            Assert.Equal(RegexPieces(regex, s), ScannerPieces(s, maxDigits: 1));
            Assert.Equal(RegexPieces(cl100k, s), ScannerPieces(s, maxDigits: 3));
        }
    }

    [Theory]
    [InlineData("\uD842\uDFB7\u91CE\u5BB6", new[] { "\uD842\uDFB7\u91CE\u5BB6" })]
    [InlineData("\uD835\uDFCF\uD835\uDFD03", new[] { "\uD835\uDFCF", "\uD835\uDFD0", "3" })]
    [InlineData("a'\u017F b", new[] { "a", "'\u017F", " b" })]
    [InlineData("x'\u017Fa", new[] { "x", "'\u017F", "a" })]
    [InlineData("x'S y", new[] { "x", "'S", " y" })]
    [InlineData("\u00A0\u00A0a", new[] { "\u00A0", "\u00A0a" })]
    [InlineData("a\u2028b", new[] { "a", "\u2028b" })]
    [InlineData("\u0085x", new[] { "\u0085x" })]
    [InlineData(" \uD83D\uDE00\uD83D\uDE00\n\nx", new[] { " \uD83D\uDE00\uD83D\uDE00\n\n", "x" })]
    [InlineData("  \n  x", new[] { "  \n", " ", " x" })]
    public void Splits_like_the_reference_on_these_cases(string text, string[] expected)
    {
        // Expected pieces: the reference's PreTokenizer.pre_tokenize_str on the Qwen2-VL tokenizer.json (before byte mapping).
        Assert.Equal(expected, ScannerPieces(text, maxDigits: 1));
    }

    [Fact]
    public void The_regex_fallback_matches_the_reference_on_BMP_text()
    {
        // The same pattern written differently (one more, never reached, alternative) runs on the .NET regex engine.
        // Inside the BMP it must give the reference's ids (but for "'ſ", which .NET's IgnoreCase does not fold to "'s");
        // outside, .NET's UTF-16 \p{L} is why the scanner exists.
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(SharedQwen2Tokenizer.Folder, "tokenizer.json")))!.AsObject();
        var split = root["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!.AsObject();
        split["Regex"] = (string)split["Regex"]! + "|\\s+";
        var viaRegex = Qwen2Tokenizer.FromJson(Encoding.UTF8.GetBytes(root.ToJsonString()));

        var path = Path.Combine(AppContext.BaseDirectory, "Text", "Fixtures", "hf-qwen2vl-fuzz.jsonl");
        var checkedCount = 0;
        var astralDifferences = 0;
        foreach (var line in File.ReadLines(path))
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.GetProperty("kind").GetString() != "encode")
            {
                continue;
            }

            var text = document.RootElement.GetProperty("text").GetString()!;
            int[] expected = [.. document.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
            var actual = viaRegex.Encode(text);
            if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0 && !text.Contains('\u017F', StringComparison.Ordinal))
            {
                Assert.Equal(expected, actual);
                checkedCount++;
            }
            else if (!expected.AsSpan().SequenceEqual(actual))
            {
                astralDifferences++;
            }
        }

        Assert.True(checkedCount > 500, $"only {checkedCount} BMP-only cases");
        Assert.True(astralDifferences > 0, "the fixture should hold astral letters/digits the .NET regex splits differently");
    }

    private static List<string> RegexPieces(Regex regex, string text)
    {
        var pieces = new List<string>();
        foreach (Match match in regex.Matches(text))
        {
            pieces.Add(match.Value);
        }

        return pieces;
    }

    private static List<string> ScannerPieces(string text, int maxDigits)
    {
        var pieces = new List<string>();
        for (var position = 0; position < text.Length;)
        {
            var length = Qwen2PatternScanner.NextPieceLength(text.AsSpan(position), maxDigits);
            Assert.True(length > 0);
            pieces.Add(text.Substring(position, length));
            position += length;
        }

        return pieces;
    }
}
