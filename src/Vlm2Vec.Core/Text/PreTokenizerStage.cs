using System.Text.RegularExpressions;

namespace Vlm2Vec.Preprocessing;

/// <summary>One step of the pre-tokenizer: split each piece further, or prefix it with a space.</summary>
internal sealed class PreTokenizerStage
{
    /// <summary>The GPT-2 pattern the ByteLevel pre-tokenizer splits with when <c>use_regex</c> is true.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private PreTokenizerStage(PreTokenizerStageKind kind, int maxDigits, Regex? regex, string description)
    {
        Kind = kind;
        MaxDigits = maxDigits;
        Regex = regex;
        Description = description;
    }

    /// <summary>What the stage does.</summary>
    public PreTokenizerStageKind Kind { get; }

    /// <summary>For <see cref="PreTokenizerStageKind.Qwen2Scanner"/>: how many digits one number piece may hold.</summary>
    public int MaxDigits { get; }

    /// <summary>For <see cref="PreTokenizerStageKind.RegexSplit"/>: the pattern.</summary>
    public Regex? Regex { get; }

    /// <summary>A short description for messages.</summary>
    public string Description { get; }

    /// <summary>A Split on <paramref name="pattern"/> with the Isolated behaviour (matches and the text between them both become pieces).</summary>
    public static PreTokenizerStage Split(string pattern, bool isRegex)
    {
        if (isRegex)
        {
            var maxDigits = Qwen2PatternScanner.MaxDigitsFor(pattern);
            if (maxDigits > 0)
            {
                return new PreTokenizerStage(PreTokenizerStageKind.Qwen2Scanner, maxDigits, null, "Split(Qwen2 pattern)");
            }
        }

        // Other patterns run on .NET's regex engine, which matches UTF-16 units: \p{L} and \p{N} miss letters and
        // digits outside the Basic Multilingual Plane, and (?i) does not fold U+017F to 's' as the reference does. The two
        // known patterns above avoid both with a code-point scanner.
        Regex regex;
        try
        {
            regex = new Regex(
                isRegex ? pattern : Regex.Escape(pattern),
                RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException ex)
        {
            throw new ModelFormatException(
                $"tokenizer.json: the Split pre-tokenizer pattern '{pattern}' is not a regex .NET can run: {ex.Message}", ex);
        }

        return new PreTokenizerStage(PreTokenizerStageKind.RegexSplit, 0, regex, $"Split('{pattern}')");
    }

    /// <summary>The ByteLevel pre-tokenizer's optional steps: a space before each piece, then the GPT-2 split.</summary>
    public static IEnumerable<PreTokenizerStage> ByteLevel(bool addPrefixSpace, bool useRegex)
    {
        if (addPrefixSpace)
        {
            yield return new PreTokenizerStage(PreTokenizerStageKind.PrefixSpace, 0, null, "ByteLevel(add_prefix_space)");
        }

        if (useRegex)
        {
            yield return Split(Gpt2Pattern, isRegex: true);
        }
    }
}
