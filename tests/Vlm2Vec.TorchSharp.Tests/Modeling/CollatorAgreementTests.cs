using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Modeling;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>The Core collator's position ids and image-token mask agree with the model's own get_rope_index.</summary>
public sealed class CollatorAgreementTests
{
    public CollatorAgreementTests() => TorchSharpRuntime.EnsureLoaded();

    public static TheoryData<string, bool> Batches => new()
    {
        { "vlm2vec", true }, { "vlm2vec", false }, { "chat", true }, { "chat", false },
        { "mixed", true }, { "mixed", false }, { "quirk", true }, { "text", true }, { "text", false },
    };

    [Theory]
    [MemberData(nameof(Batches))]
    public void Collator_positions_equal_the_model_rope_index(string kind, bool left)
    {
        var config = T.Config();
        ProcessedImage Image(int h, int w, int seed) => new(T.Pixels(1, h, w, seed), 1, h, w, T.PatchRow);
        long[] Chat(int tokens, params long[] text) => [30, T.VisionStart, .. T.Row(tokens), T.VisionEnd, .. text];
        (long[] Ids, ProcessedImage[] Images)[] rows = kind switch
        {
            "vlm2vec" => [(T.Row(4, 5, 6), [Image(4, 4, 1)]), (T.Row(0, 7, 8, 9, 10, 11, 12), []), ([.. T.Row(6, 13), .. T.Row(1, 14)], [Image(4, 6, 2), Image(2, 2, 3)])],
            "chat" => [(Chat(6, 40, 41), [Image(4, 6, 4)]), ([.. Chat(4), .. Chat(1, 42)], [Image(4, 4, 5), Image(2, 2, 6)]), (T.Row(0, 43), [])],
            "mixed" => [(Chat(6, 40), [Image(6, 4, 7)]), (T.Row(4, 44, 45), [Image(4, 4, 8)]), (T.Row(0, 46, 47, 48), [])],
            "quirk" => [(T.Row(4, 44, 45), [Image(4, 4, 9)]), (Chat(6, 40), [Image(4, 6, 10)])],
            _ => [(T.Row(0, 5, 6, 7), []), (T.Row(0, 8), [])],
        };

        var collator = new BatchCollator(BatchCollatorOptions.FromConfig(config, T.PadToken, left ? PaddingSide.Left : PaddingSide.Right));
        var batch = collator.Collate(rows.Select(r => new PreparedInput(r.Ids.Select(i => (int)i).ToArray(), r.Images, "prompt")).ToArray());
        var grid = batch.ImageCount == 0 ? null : batch.ImageGridThw;
        var expected = Qwen2VlRopeIndex.Compute(batch.InputIds, batch.AttentionMask, batch.BatchSize, batch.SequenceLength, grid, config);
        Assert.Equal(expected, batch.PositionIds);
    }
}
