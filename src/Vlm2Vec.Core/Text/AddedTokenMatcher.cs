using System.Buffers;
using System.Globalization;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Finds added tokens in text the way Hugging Face tokenizers' <c>AddedVocabulary::find_matches</c> does: leftmost-longest
/// matches (its Aho-Corasick automaton), searching on after the end of each match, with the <c>single_word</c>,
/// <c>lstrip</c> and <c>rstrip</c> rules applied to each match.
/// </summary>
/// <remarks>
/// Written here because Microsoft.ML.Tokenizers splits special tokens with a regex alternation, which takes the first
/// listed token that matches rather than the longest, and knows none of the lstrip/rstrip/single_word/normalized flags.
/// Added-token sets are small (tens of tokens), so candidates are found by a vectorised scan for their first characters and
/// then compared longest first, which gives the same leftmost-longest result as the automaton.
/// </remarks>
internal sealed class AddedTokenMatcher
{
    private readonly SearchValues<char> _firstChars;
    private readonly Dictionary<char, (string Pattern, AddedTokenSpec Token)[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedTokenSpec Token)> patterns)
    {
        var groups = new Dictionary<char, List<(string, AddedTokenSpec)>>();
        foreach (var (pattern, token) in patterns)
        {
            if (pattern.Length == 0)
            {
                continue;
            }

            if (!groups.TryGetValue(pattern[0], out var list))
            {
                list = [];
                groups.Add(pattern[0], list);
            }

            // A later entry with the same text replaces an earlier one (the automaton keeps one value per pattern).
            list.RemoveAll(p => string.Equals(p.Item1, pattern, StringComparison.Ordinal));
            list.Add((pattern, token));
        }

        _byFirstChar = new Dictionary<char, (string, AddedTokenSpec)[]>(groups.Count);
        foreach (var (first, list) in groups)
        {
            // Longest first, so the first hit at a position is the longest one.
            list.Sort((a, b) => b.Item1.Length.CompareTo(a.Item1.Length));
            _byFirstChar.Add(first, [.. list]);
        }

        _firstChars = SearchValues.Create([.. groups.Keys]);
        IsEmpty = groups.Count == 0;
    }

    /// <summary>Whether there is nothing to match.</summary>
    public bool IsEmpty { get; }

    /// <summary>
    /// Finds the next accepted match at or after <paramref name="searchFrom"/>, which it advances past the raw match.
    /// <paramref name="previousEnd"/> is where the last piece ended: a left strip never reaches before it.
    /// </summary>
    public bool FindNext(
        ReadOnlySpan<char> text,
        ref int searchFrom,
        int previousEnd,
        bool skipSpecialTokens,
        out int start,
        out int end,
        out AddedTokenSpec? token)
    {
        while (searchFrom < text.Length)
        {
            var offset = text[searchFrom..].IndexOfAny(_firstChars);
            if (offset < 0)
            {
                searchFrom = text.Length;
                break;
            }

            var position = searchFrom + offset;
            var candidate = MatchAt(text, position);
            if (candidate is null)
            {
                searchFrom = position + 1;
                continue;
            }

            var (pattern, spec) = candidate.Value;
            var rawEnd = position + pattern.Length;
            searchFrom = rawEnd;

            if (skipSpecialTokens && spec.Special)
            {
                continue;
            }

            if (spec.SingleWord && (EndsWithWordChar(text[..position]) || StartsWithWordChar(text[rawEnd..])))
            {
                continue;
            }

            start = position;
            end = rawEnd;
            if (spec.LeftStrip)
            {
                var stripped = position;
                while (stripped > 0 && char.IsWhiteSpace(text[stripped - 1]))
                {
                    stripped--;
                }

                start = Math.Max(stripped, previousEnd);
            }

            if (spec.RightStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    end++;
                }
            }

            token = spec;
            return true;
        }

        start = end = text.Length;
        token = null;
        return false;
    }

    private (string Pattern, AddedTokenSpec Token)? MatchAt(ReadOnlySpan<char> text, int position)
    {
        var rest = text[position..];
        foreach (var entry in _byFirstChar[text[position]])
        {
            if (rest.StartsWith(entry.Pattern, StringComparison.Ordinal))
            {
                return entry;
            }
        }

        return null;
    }

    // The reference tests "\w$" and "^\w" with Rust's Unicode \w: Alphabetic, marks, decimal digits, connector
    // punctuation and the joiners. Letters, letter numbers, marks, Nd, Pc, ZWNJ/ZWJ and the circled letters (the
    // Other_Alphabetic symbols) cover it.
    private static bool EndsWithWordChar(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        var last = text[^1];
        var codePoint = char.IsLowSurrogate(last) && text.Length >= 2 && char.IsHighSurrogate(text[^2])
            ? char.ConvertToUtf32(text[^2], last)
            : last;
        return IsWordCodePoint(codePoint);
    }

    private static bool StartsWithWordChar(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        var first = text[0];
        var codePoint = char.IsHighSurrogate(first) && text.Length >= 2 && char.IsLowSurrogate(text[1])
            ? char.ConvertToUtf32(first, text[1])
            : first;
        return IsWordCodePoint(codePoint);
    }

    private static bool IsWordCodePoint(int codePoint)
    {
        if (codePoint is 0x200C or 0x200D || codePoint is >= 0x24B6 and <= 0x24E9)
        {
            return true;
        }

        return CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.LetterNumber
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }
}
