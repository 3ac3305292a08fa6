using System.Globalization;
using System.Text;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The tokenizer.json normalizers this tokenizer supports: the four Unicode normalization forms, alone or in a
/// <c>Sequence</c>. Runs on the text between added tokens, as Hugging Face tokenizers does.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers has no Unicode-normalization normalizer, and its normalizer runs over the whole text before
/// special tokens are split, whereas the reference normalizes only the pieces between them; so this is written here on
/// top of .NET's own (ICU) normalization. Two .NET gaps are covered: <see cref="string.Normalize(NormalizationForm)"/>
/// throws on U+FFFE, which the reference passes through (U+FFFE is a starter that never composes, so the text is
/// normalized around it); and a process running with InvariantGlobalization has no normalization at all (it silently
/// returns the text unchanged), so there text that NFC could change is refused instead of encoded to wrong ids.
/// </remarks>
internal sealed class TextNormalizer
{
    private static readonly Lazy<bool> PlatformNormalizes = new(ProbePlatform);

    // Non-mark code points that NFC can change (NFC_Quick_Check = No or Maybe), as ranges, over-inclusive where that
    // keeps the list short: the singletons (Greek tonos letters, CJK compatibility ideographs, …) and the Hangul vowel and
    // trailing jamo that compose with a preceding syllable. Every combining mark counts as well (checked by category).
    private static readonly int[] NfcSensitiveRanges =
    [
        0x0374, 0x0374, 0x037E, 0x037E, 0x0387, 0x0387, 0x0958, 0x095F, 0x09DC, 0x09DF, 0x0A33, 0x0A5E, 0x0B5C, 0x0B5D,
        0x0F43, 0x0F69, 0x1161, 0x1175, 0x11A8, 0x11C2, 0x1F71, 0x1FFD, 0x2000, 0x2001, 0x2126, 0x212B, 0x2329, 0x232A,
        0x2ADC, 0x2ADC, 0xF900, 0xFAFF, 0xFB1D, 0xFB4E, 0x1D15E, 0x1D1C0, 0x2F800, 0x2FA1F,
    ];

    private readonly NormalizationForm[] _forms;

    public TextNormalizer(IReadOnlyList<NormalizationForm> forms)
    {
        _forms = [.. forms];
    }

    /// <summary>The forms applied in order (empty: none).</summary>
    public IReadOnlyList<NormalizationForm> Forms => _forms;

    /// <summary>Whether the normalizer does nothing.</summary>
    public bool IsIdentity => _forms.Length == 0;

    /// <summary>
    /// Normalizes <paramref name="text"/>; returns false (and no string) when it is already normalized. Plain text is
    /// recognised without allocating: under NFC everything below U+0300 is stable, under the other forms everything
    /// below U+00A0.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">
    /// The process runs with InvariantGlobalization (no Unicode normalization) and the text may need normalizing.
    /// </exception>
    public bool TryNormalize(ReadOnlySpan<char> text, out string? normalized)
    {
        normalized = null;
        if (_forms.Length == 0 || text.IsEmpty)
        {
            return false;
        }

        var changed = false;
        foreach (var form in _forms)
        {
            ReadOnlySpan<char> current = normalized is null ? text : normalized.AsSpan();
            if (IsTriviallyNormalized(current, form))
            {
                continue;
            }

            if (!PlatformNormalizes.Value)
            {
                if (form == NormalizationForm.FormC && !MayChangeUnderNfc(current))
                {
                    continue;
                }

                throw new PlatformNotSupportedException(
                    $"The tokenizer's normalizer ({form}) must normalize this text, but this process runs with " +
                    "InvariantGlobalization, where .NET cannot normalize Unicode. Turn InvariantGlobalization off (and " +
                    "install ICU, e.g. the libicu package) to tokenize such text.");
            }

            if (current.Contains('\uFFFE'))
            {
                var result = NormalizeAroundNonCharacter(current, form);
                if (!current.SequenceEqual(result))
                {
                    normalized = result;
                    changed = true;
                }

                continue;
            }

            if (current.IsNormalized(form))
            {
                continue;
            }

            normalized = (normalized ?? text.ToString()).Normalize(form);
            changed = true;
        }

        return changed;
    }

    /// <summary>Normalizes a whole string (used for added-token contents).</summary>
    public string Normalize(string text) => TryNormalize(text, out var normalized) ? normalized! : text;

    /// <summary>Whether NFC could change <paramref name="text"/>: it holds a combining mark or an NFC-sensitive character.</summary>
    internal static bool MayChangeUnderNfc(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            int codePoint = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoint = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            if (codePoint >= 0x0300 && IsNfcSensitive(codePoint))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a code point can be changed by NFC or combine with what precedes it.</summary>
    internal static bool IsNfcSensitive(int codePoint)
    {
        var category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
        {
            return true;
        }

        for (var r = 0; r < NfcSensitiveRanges.Length; r += 2)
        {
            if (codePoint < NfcSensitiveRanges[r])
            {
                return false;
            }

            if (codePoint <= NfcSensitiveRanges[r + 1])
            {
                return true;
            }
        }

        return false;
    }

    private static string NormalizeAroundNonCharacter(ReadOnlySpan<char> text, NormalizationForm form)
    {
        var builder = new StringBuilder(text.Length);
        while (!text.IsEmpty)
        {
            var stop = text.IndexOf('\uFFFE');
            var chunk = stop < 0 ? text : text[..stop];
            builder.Append(chunk.IsNormalized(form) ? chunk : chunk.ToString().Normalize(form));
            if (stop < 0)
            {
                break;
            }

            builder.Append('\uFFFE');
            text = text[(stop + 1)..];
        }

        return builder.ToString();
    }

    // Text with no character at or above U+0300 has no combining mark, so nothing composes or reorders, and no
    // character below U+0300 changes under NFC. NFD decomposes precomposed Latin-1 letters and NFKC/NFKD map U+00A0
    // and friends, so for those forms only text below U+00A0 is known stable.
    private static bool IsTriviallyNormalized(ReadOnlySpan<char> text, NormalizationForm form) =>
        form is NormalizationForm.FormC
            ? text.IndexOfAnyInRange('\u0300', '\uFFFF') < 0
            : text.IndexOfAnyInRange('\u00A0', '\uFFFF') < 0;

    private static bool ProbePlatform()
    {
        try
        {
            return "e\u0301".Normalize(NormalizationForm.FormC) == "\u00E9";
        }
        catch (PlatformNotSupportedException)
        {
            return false;
        }
    }
}
