using System.Globalization;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// A hand-written matcher for the Qwen2 pre-tokenizer regex
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// (and its cl100k / Llama-3 sibling with <c>\p{N}{1,3}</c>), giving exactly the pieces the Hugging Face (Oniguruma)
/// regex gives.
/// </summary>
/// <remarks>
/// Written by hand rather than run through .NET <see cref="System.Text.RegularExpressions.Regex"/> (which
/// Microsoft.ML.Tokenizers' <c>RegexPreTokenizer</c> uses) because .NET regexes match UTF-16 code units: a letter or digit
/// outside the Basic Multilingual Plane (CJK extension B such as U+20BB7 𠮷, mathematical digits such as U+1D7CF 𝟏) is a
/// surrogate pair, which <c>\p{L}</c>/<c>\p{N}</c> do not match, so .NET splits <c>"𠮷野家"</c> into two pieces where the
/// reference keeps one, and groups astral digits instead of splitting them one by one. Matching code points here fixes
/// that, and is several times faster than the regex engine. <c>(?i:'s)</c> also matches <c>'ſ</c> (U+017F folds to
/// <c>s</c>), as in the reference.
/// </remarks>
internal static class Qwen2PatternScanner
{
    /// <summary>The Qwen2 pattern (numbers split one digit at a time).</summary>
    public const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The cl100k / Llama-3 pattern: the same with runs of up to three digits.</summary>
    public const string Cl100kPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private enum Kind : byte
    {
        Letter,
        Number,
        LineBreak,
        Space,
        Other,
    }

    /// <summary>Returns how many digits a <c>\p{N}</c> run may take for a known pattern, or 0 when the pattern is not one of them.</summary>
    public static int MaxDigitsFor(string pattern) => pattern switch
    {
        Qwen2Pattern => 1,
        Cl100kPattern => 3,
        _ => 0,
    };

    /// <summary>The length in chars of the piece that starts <paramref name="text"/> (which is not empty).</summary>
    public static int NextPieceLength(ReadOnlySpan<char> text, int maxDigits)
    {
        var first = Read(text, 0, out var firstLength);

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (first == '\'' && text.Length >= 2)
        {
            var c1 = text[1];
            if (c1 is 's' or 'S' or 't' or 'T' or 'm' or 'M' or 'd' or 'D' or '\u017F')
            {
                return 2;
            }

            if (text.Length >= 3)
            {
                var c2 = text[2];
                if ((c1 is 'r' or 'R' or 'v' or 'V') && c2 is 'e' or 'E')
                {
                    return 3;
                }

                if (c1 is 'l' or 'L' && c2 is 'l' or 'L')
                {
                    return 3;
                }
            }
        }

        var kind = Classify(first);

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (kind == Kind.Letter)
        {
            return firstLength + LetterRun(text, firstLength);
        }

        if (kind is Kind.Space or Kind.Other && firstLength < text.Length)
        {
            var letters = LetterRun(text, firstLength);
            if (letters > 0)
            {
                return firstLength + letters;
            }
        }

        // \p{N} (or \p{N}{1,3})
        if (kind == Kind.Number)
        {
            var end = firstLength;
            for (var digits = 1; digits < maxDigits && end < text.Length; digits++)
            {
                var cp = Read(text, end, out var length);
                if (Classify(cp) != Kind.Number)
                {
                    break;
                }

                end += length;
            }

            return end;
        }

        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        if (first == ' ' && text.Length > 1)
        {
            var others = OtherRun(text, 1);
            if (others > 0)
            {
                return LineBreakRun(text, 1 + others);
            }
        }

        if (kind == Kind.Other)
        {
            return LineBreakRun(text, firstLength + OtherRun(text, firstLength));
        }

        // What is left starts with white space; every white-space character is a single UTF-16 unit.
        var spaceEnd = 1;
        var lastBreak = first is '\r' or '\n' ? 0 : -1;
        while (spaceEnd < text.Length && IsWhiteSpaceUnit(text[spaceEnd]))
        {
            if (text[spaceEnd] is '\r' or '\n')
            {
                lastBreak = spaceEnd;
            }

            spaceEnd++;
        }

        // \s*[\r\n]+ : greedy white space, backing off to the last line break in it.
        if (lastBreak >= 0)
        {
            return lastBreak + 1;
        }

        // \s+(?!\S) : the whole run at the end of the text, else the run less its last character.
        if (spaceEnd == text.Length)
        {
            return spaceEnd;
        }

        // \s+ : a single white-space character before a non-space.
        return spaceEnd >= 2 ? spaceEnd - 1 : spaceEnd;
    }

    private static int LetterRun(ReadOnlySpan<char> text, int start)
    {
        var i = start;
        while (i < text.Length)
        {
            var cp = Read(text, i, out var length);
            if (Classify(cp) != Kind.Letter)
            {
                break;
            }

            i += length;
        }

        return i - start;
    }

    private static int OtherRun(ReadOnlySpan<char> text, int start)
    {
        var i = start;
        while (i < text.Length)
        {
            var cp = Read(text, i, out var length);
            if (Classify(cp) != Kind.Other)
            {
                break;
            }

            i += length;
        }

        return i - start;
    }

    private static int LineBreakRun(ReadOnlySpan<char> text, int start)
    {
        var i = start;
        while (i < text.Length && text[i] is '\r' or '\n')
        {
            i++;
        }

        return i;
    }

    private static bool IsWhiteSpaceUnit(char c) => char.IsWhiteSpace(c);

    private static int Read(ReadOnlySpan<char> text, int index, out int length)
    {
        var c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, text[index + 1]);
        }

        length = 1;
        return c;
    }

    private static Kind Classify(int codePoint)
    {
        if (codePoint < 0x80)
        {
            return AsciiKinds[codePoint];
        }

        // char.IsWhiteSpace and the regex's \s agree: Unicode White_Space (Zs, Zl, Zp, U+0009–U+000D, U+0085).
        if (codePoint <= 0xFFFF && char.IsWhiteSpace((char)codePoint))
        {
            return Kind.Space;
        }

        return CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }

    private static readonly Kind[] AsciiKinds = BuildAsciiKinds();

    private static Kind[] BuildAsciiKinds()
    {
        var kinds = new Kind[128];
        for (var c = 0; c < 128; c++)
        {
            kinds[c] = c switch
            {
                '\r' or '\n' => Kind.LineBreak,
                _ when char.IsWhiteSpace((char)c) => Kind.Space,
                _ when char.IsAsciiLetter((char)c) => Kind.Letter,
                _ when char.IsAsciiDigit((char)c) => Kind.Number,
                _ => Kind.Other,
            };
        }

        return kinds;
    }
}
