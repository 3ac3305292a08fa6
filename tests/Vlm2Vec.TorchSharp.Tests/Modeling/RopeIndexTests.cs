using Vlm2Vec.TorchSharp.Modeling;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>Position ids against the spec's worked examples (§3.8, §4.2, §4.7) and the reference's rules.</summary>
public sealed class RopeIndexTests
{
    public RopeIndexTests() => TorchSharpRuntime.EnsureLoaded();

    [Fact]
    public void Spec_worked_example_with_vision_markers()
    {
        // A B <vision_start> [6 image pads, grid (1, 4, 6)] <vision_end> C D  (spec §3.8 table).
        long[] ids = [10, 11, T.VisionStart, .. T.Row(6), T.VisionEnd, 12, 13];
        var positions = Qwen2VlRopeIndex.Compute(ids, [], 1, ids.Length, [1, 4, 6], T.Config());
        Assert.Equal(new long[] { 0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7, 8 }, positions[..12]);
        Assert.Equal(new long[] { 0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7, 8 }, positions[12..24]);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8 }, positions[24..]);
    }

    [Fact]
    public void Vlm2Vec_rows_without_vision_start_get_one_dimensional_positions_and_pads_get_one()
    {
        // Left-padded: [pad pad | 4 image tokens, 2 text]; right-padded text row.
        long[] ids = [T.PadToken, T.PadToken, .. T.Row(4, 20, 21), 30, 31, 32, T.PadToken, T.PadToken, T.PadToken, T.PadToken, T.PadToken];
        long[] mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
        foreach (var grid in new long[]?[] { [1, 4, 4], null })
        {
            var positions = Qwen2VlRopeIndex.Compute(ids, mask, 2, 8, grid, T.Config());
            long[] expectedPlane = [1, 1, 0, 1, 2, 3, 4, 5, 0, 1, 2, 1, 1, 1, 1, 1];
            Assert.Equal(expectedPlane, positions[..16]);
            Assert.Equal(expectedPlane, positions[16..32]);
            Assert.Equal(expectedPlane, positions[32..]);
        }
    }

    [Fact]
    public void Grids_are_consumed_batch_wide_by_counted_images_only()
    {
        // Row 0 is VLM2Vec style (its image is not counted); row 1 has vision_start + image. Like the reference, row 1 takes
        // grid 0 (the batch-wide counter only advances on counted images).
        long[] row0 = [.. T.Row(4, 20, 21)];
        long[] row1 = [T.VisionStart, .. T.Row(4), T.VisionEnd];
        long[] ids = [.. row0, .. row1];
        var positions = Qwen2VlRopeIndex.Compute(ids, [], 2, 6, [1, 4, 4, 1, 2, 8], T.Config());
        // Row 1 laid out on grid 0 = (1, 4, 4) → merged 2 x 2: h ids 1,1,2,2 and w ids 1,2,1,2 after vision_start at 0.
        Assert.Equal(new long[] { 0, 1, 1, 1, 1, 3 }, positions[6..12]);
        Assert.Equal(new long[] { 0, 1, 1, 2, 2, 3 }, positions[18..24]);
        Assert.Equal(new long[] { 0, 1, 2, 1, 2, 3 }, positions[30..36]);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5 }, positions[..6]);
    }

    [Fact]
    public void Truncated_image_run_is_refused_with_a_clear_error()
    {
        long[] ids = [T.VisionStart, .. T.Row(3)]; // grid needs 4 placeholders
        var error = Assert.Throws<InvalidInputException>(() => Qwen2VlRopeIndex.Compute(ids, [], 1, ids.Length, [1, 4, 4], T.Config()));
        Assert.Contains("4 placeholder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vision_row_column_ids_follow_the_merge_block_order()
    {
        // Spec §4.7: for a 4x4 patch grid the first rows are (0,0) (0,1) (1,0) (1,1) then (0,2) (0,3) (1,2) (1,3).
        var ids = Qwen2VisionTransformer.RowColumnIds([1, 4, 4], 2);
        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 0, 1, 1, 0, 2, 0, 3, 1, 2, 1, 3 }, ids[..16]);
        Assert.Equal(32, ids.Length);

        // Temporal slices repeat the pattern; segments are one per slice.
        var video = Qwen2VisionTransformer.RowColumnIds([2, 2, 2], 2);
        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1 }, video);
        Assert.Equal(new long[] { 4, 4, 24 }, Qwen2VisionTransformer.SegmentLengths([2, 2, 2, 1, 4, 6]));
    }
}
