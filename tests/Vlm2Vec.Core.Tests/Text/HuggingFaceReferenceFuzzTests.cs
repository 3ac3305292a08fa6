using System.Text.Json;

namespace Vlm2Vec.Core.Tests.Text;

/// <summary>
/// 1,500 random texts and 7 long ones (every kind of white space, contractions, NFC cases, scripts, letters and digits outside the
/// BMP, emoji, control characters, whole and broken special tokens) and 300 random id lists, encoded and decoded by the
/// Rust Hugging Face tokenizers library (Fixtures/make-hf-fixtures.js says how).
/// </summary>
public sealed class HuggingFaceReferenceFuzzTests
{
    private static readonly Lazy<List<JsonElement>> Cases = new(Load);

    [Fact]
    public void Random_texts_encode_to_the_reference_ids()
    {
        var tokenizer = SharedQwen2Tokenizer.Instance;
        var failures = new List<string>();
        var checkedCount = 0;
        foreach (var entry in Cases.Value.Where(e => e.GetProperty("kind").GetString() == "encode"))
        {
            var text = entry.GetProperty("text").GetString()!;
            int[] expected = [.. entry.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
            var actual = tokenizer.Encode(text);
            checkedCount++;
            if (!expected.AsSpan().SequenceEqual(actual))
            {
                failures.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join(',', expected)}], got [{string.Join(',', actual)}]");
            }
        }

        Assert.Equal(1507, checkedCount);
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n" + string.Join('\n', failures.Take(20)));
    }

    [Fact]
    public void Random_id_lists_decode_to_the_reference_text()
    {
        var tokenizer = SharedQwen2Tokenizer.Instance;
        var failures = new List<string>();
        var checkedCount = 0;
        foreach (var entry in Cases.Value.Where(e => e.GetProperty("kind").GetString() == "decode"))
        {
            int[] ids = [.. entry.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
            var expected = entry.GetProperty("decoded").GetString();
            var expectedSkipping = entry.GetProperty("decodedSkippingSpecial").GetString();
            checkedCount++;
            var actual = tokenizer.Decode(ids);
            var actualSkipping = tokenizer.Decode(ids, skipSpecialTokens: true);
            if (actual != expected || actualSkipping != expectedSkipping)
            {
                failures.Add($"[{string.Join(',', ids)}]: expected {JsonSerializer.Serialize(expected)} / {JsonSerializer.Serialize(expectedSkipping)}, " +
                             $"got {JsonSerializer.Serialize(actual)} / {JsonSerializer.Serialize(actualSkipping)}");
            }
        }

        Assert.Equal(300, checkedCount);
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n" + string.Join('\n', failures.Take(20)));
    }

    private static List<JsonElement> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Text", "Fixtures", "hf-qwen2vl-fuzz.jsonl");
        return [.. File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }
}
