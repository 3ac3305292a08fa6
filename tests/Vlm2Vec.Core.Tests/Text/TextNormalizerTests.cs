using System.Text;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Text;

/// <summary>The normalizer's edge cases and the table that keeps InvariantGlobalization processes from wrong ids.</summary>
public sealed class TextNormalizerTests
{
    [Fact]
    public void The_NFC_sensitive_table_covers_every_character_NFC_can_change()
    {
        // Checked against ICU over all of Unicode: a code point the table calls insensitive must be NFC-stable alone, and
        // must never be a non-first part of a canonical decomposition (the part that composes with what precedes it).
        var misses = new List<string>();
        for (var codePoint = 0x0300; codePoint <= 0x10FFFF; codePoint++)
        {
            if (codePoint is (>= 0xD800 and <= 0xDFFF) or 0xFFFE)
            {
                continue;
            }

            var text = char.ConvertFromUtf32(codePoint);
            if (!TextNormalizer.IsNfcSensitive(codePoint) && text.Normalize(NormalizationForm.FormC) != text)
            {
                misses.Add($"U+{codePoint:X4} changes under NFC");
            }

            var decomposed = text.Normalize(NormalizationForm.FormD);
            for (var i = char.IsHighSurrogate(decomposed[0]) ? 2 : 1; i < decomposed.Length; i++)
            {
                var part = char.ConvertToUtf32(decomposed, i);
                if (char.IsHighSurrogate(decomposed[i]))
                {
                    i++;
                }

                if (!TextNormalizer.IsNfcSensitive(part))
                {
                    misses.Add($"U+{part:X4} composes (in U+{codePoint:X4})");
                }
            }
        }

        Assert.Empty(misses);
        Assert.False(TextNormalizer.MayChangeUnderNfc("Plain ASCII, Latin-1 café, 中文, 😀 and 𠮷"));
        Assert.True(TextNormalizer.MayChangeUnderNfc("e\u0301"));
        Assert.True(TextNormalizer.MayChangeUnderNfc("\u1100\u1161"));
        Assert.True(TextNormalizer.MayChangeUnderNfc("\uF900"));
        Assert.True(TextNormalizer.MayChangeUnderNfc("\uD87E\uDC00"));
    }

    [Fact]
    public void U_FFFE_is_normalized_around_as_the_reference_does()
    {
        // .NET's Normalize throws on U+FFFE; the reference passes it through. Expected ids: Rust Hugging Face tokenizers.
        var tokenizer = SharedQwen2Tokenizer.Instance;
        Assert.Equal([64, 5564, 122, 963], tokenizer.Encode("a\uFFFEe\u0301"));
        Assert.Equal([5564, 122, 53839, 87], tokenizer.Encode("\uFFFE\u0301x"));
        Assert.Equal([5564, 123], tokenizer.Encode("\uFFFF"));
    }

    [Fact]
    public void Every_form_and_sequences_normalize_like_dotnet()
    {
        var text = "ﬁ ① Å e\u0301 \u1100\u1161";
        foreach (var form in new[] { NormalizationForm.FormC, NormalizationForm.FormD, NormalizationForm.FormKC, NormalizationForm.FormKD })
        {
            var normalizer = new TextNormalizer([form]);
            Assert.Equal(text.Normalize(form), normalizer.Normalize(text));
            Assert.False(normalizer.TryNormalize("plain text", out _));
        }

        var sequence = new TextNormalizer([NormalizationForm.FormD, NormalizationForm.FormKC]);
        Assert.Equal(text.Normalize(NormalizationForm.FormD).Normalize(NormalizationForm.FormKC), sequence.Normalize(text));
        Assert.True(new TextNormalizer([]).IsIdentity);
    }
}
