using System.Text;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The tokenizer.json normalizers this tokenizer supports: the four Unicode normalization forms, alone or in a
/// <c>Sequence</c>. Runs on the text between added tokens, as Hugging Face tokenizers does.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers has no Unicode-normalization normalizer, and its normalizer runs over the whole text before
/// special tokens are split, whereas the reference normalizes only the pieces between them; so this is written here on
/// top of .NET's own (ICU) normalization.
/// </remarks>
internal sealed class TextNormalizer
{
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
            if (IsTriviallyNormalized(current, form) || current.IsNormalized(form))
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

    // Text with no character at or above U+0300 has no combining mark, so nothing composes or reorders, and no
    // character below U+0300 changes under NFC. NFD decomposes precomposed Latin-1 letters and NFKC/NFKD map U+00A0
    // and friends, so for those forms only text below U+00A0 is known stable.
    private static bool IsTriviallyNormalized(ReadOnlySpan<char> text, NormalizationForm form) =>
        form is NormalizationForm.FormC
            ? text.IndexOfAnyInRange('\u0300', '\uFFFF') < 0
            : text.IndexOfAnyInRange('\u00A0', '\uFFFF') < 0;
}
