using System.Text.Json;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Text;

/// <summary>
/// The 342 reference encodings of shared/data/tokenizer/qwen2-vl/testvectors (made with Hugging Face tokenizers): ids,
/// token strings and decoding must all match exactly.
/// </summary>
public sealed class Qwen2TokenizerTestVectorTests
{
    private static readonly Lazy<IReadOnlyList<TestVector>> Vectors = new(LoadVectors);

    public static TheoryData<int> VectorIndices()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Vectors.Value.Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Fact]
    public void The_file_holds_all_342_cases()
    {
        Assert.Equal(342, Vectors.Value.Count);
    }

    [Theory]
    [MemberData(nameof(VectorIndices))]
    public void Encode_gives_the_reference_ids(int index)
    {
        var vector = Vectors.Value[index];
        var ids = SharedQwen2Tokenizer.Instance.Encode(vector.Text);
        Assert.Equal(vector.Ids, ids);
    }

    [Theory]
    [MemberData(nameof(VectorIndices))]
    public void Tokens_and_counts_match_the_reference(int index)
    {
        var vector = Vectors.Value[index];
        var tokenizer = SharedQwen2Tokenizer.Instance;
        Assert.Equal(vector.Tokens, tokenizer.EncodeToTokens(vector.Text));
        Assert.Equal(vector.Ids.Length, tokenizer.CountTokens(vector.Text));
    }

    [Theory]
    [MemberData(nameof(VectorIndices))]
    public void Decode_gives_the_reference_text(int index)
    {
        var vector = Vectors.Value[index];
        Assert.Equal(vector.Decoded, SharedQwen2Tokenizer.Instance.Decode(vector.Ids));
    }

    private static List<TestVector> LoadVectors()
    {
        var path = SharedData.Path("tokenizer", "qwen2-vl", "testvectors", "qwen2-vl_encode.jsonl");
        var vectors = new List<TestVector>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            vectors.Add(new TestVector(
                root.GetProperty("text").GetString()!,
                [.. root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())],
                [.. root.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!)],
                root.GetProperty("decoded").GetString()!));
        }

        return vectors;
    }

    private sealed record TestVector(string Text, int[] Ids, string[] Tokens, string Decoded);
}
