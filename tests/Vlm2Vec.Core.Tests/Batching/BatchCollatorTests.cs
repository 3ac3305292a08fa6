using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Batching;

public sealed class BatchCollatorTests
{
    // Qwen2-VL ids as config.json gives them; the pad id deliberately differs from 151643 in some tests to prove it is
    // taken from the options.
    private const int Vs = 151652;
    private const int Ve = 151653;
    private const int Img = 151655;
    private const int Vid = 151656;
    private const int RowLength = 1176;

    private static readonly BatchCollatorOptions Qwen = BatchCollatorOptions.FromConfig(new Qwen2VlConfig(), padTokenId: 151643);

    private static ProcessedImage Image(int gridT, int gridH, int gridW, float fill = 0f)
    {
        var pixels = new float[gridT * gridH * gridW * RowLength];
        Array.Fill(pixels, fill);
        return new ProcessedImage(pixels, gridT, gridH, gridW, RowLength);
    }

    private static PreparedInput Row(int[] ids, params ProcessedImage[] images) => new(ids, images, "test");

    private static int[] Repeat(int id, int count) => Enumerable.Repeat(id, count).ToArray();

    /// <summary>(stream, row) slice of the position ids.</summary>
    private static long[] Positions(CollatedBatch batch, int stream, int row) =>
        batch.PositionIds.AsSpan(stream * batch.BatchSize * batch.SequenceLength + row * batch.SequenceLength, batch.SequenceLength).ToArray();

    private static long[] RowOf(long[] values, CollatedBatch batch, int row) =>
        values.AsSpan(row * batch.SequenceLength, batch.SequenceLength).ToArray();

    [Fact]
    public void Spec_worked_example_table()
    {
        // A B <vision_start> [6 image pads for grid (1, 4, 6)] <vision_end> C D
        int[] ids = [100, 101, Vs, .. Repeat(Img, 6), Ve, 102, 103];
        var batch = new BatchCollator(Qwen).Collate([Row(ids, Image(1, 4, 6))]);

        Assert.Equal(new long[] { 0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7, 8 }, Positions(batch, 0, 0));
        Assert.Equal(new long[] { 0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7, 8 }, Positions(batch, 1, 0));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8 }, Positions(batch, 2, 0));
        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0 }, batch.ImageTokenMask);
        Assert.Equal(new long[] { 1, 4, 6 }, batch.ImageGridThw);
        Assert.Equal(24, batch.TotalPatches);
        Assert.Equal(11, batch.PooledIndex[0]);
    }

    [Fact]
    public void Worked_example_left_padded_next_to_a_longer_row_keeps_its_positions_and_pads_hold_one()
    {
        int[] ids = [100, 101, Vs, .. Repeat(Img, 6), Ve, 102, 103];
        int[] longer = [.. Enumerable.Range(1, 15)];
        var batch = new BatchCollator(Qwen).Collate([Row(longer), Row(ids, Image(1, 4, 6))]);

        Assert.Equal(15, batch.SequenceLength);
        Assert.Equal(new long[] { 1, 1, 1, 0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7, 8 }, Positions(batch, 0, 1));
        Assert.Equal(new long[] { 1, 1, 1, 0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7, 8 }, Positions(batch, 1, 1));
        Assert.Equal(new long[] { 1, 1, 1, 0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8 }, Positions(batch, 2, 1));

        // The text row has no vision start: 0..n-1 on all streams although the batch has images.
        for (var s = 0; s < 3; s++)
        {
            Assert.Equal(Enumerable.Range(0, 15).Select(i => (long)i), Positions(batch, s, 0));
        }

        Assert.Equal(new long[] { 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, RowOf(batch.AttentionMask, batch, 1));
        Assert.Equal(new long[] { 151643, 151643, 151643 }, RowOf(batch.InputIds, batch, 1)[..3]);
        Assert.Equal(new[] { 14, 14 }, batch.PooledIndex);
    }

    [Fact]
    public void Vlm2Vec_prompt_with_an_image_gets_sequential_positions_on_all_three_streams()
    {
        // "<|image_pad|>×4 \n Represent ... \n": no vision start, so get_rope_index counts no image.
        int[] ids = [.. Repeat(Img, 4), 198, 21950, 279, 2661, 2168, 13, 198];
        var batch = new BatchCollator(Qwen).Collate([Row(ids, Image(1, 4, 4))]);
        for (var s = 0; s < 3; s++)
        {
            Assert.Equal(Enumerable.Range(0, ids.Length).Select(i => (long)i), Positions(batch, s, 0));
        }

        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0 }, batch.ImageTokenMask);
        Assert.Equal(1, batch.ImageCount);
        Assert.Equal(new[] { 1 }, batch.ImagesPerRow);
    }

    [Fact]
    public void Left_and_right_padding()
    {
        var options = Qwen with { PadTokenId = 7 };
        PreparedInput[] rows = [Row([11, 12, 13, 14]), Row([21, 22])];

        var left = new BatchCollator(options).Collate(rows);
        Assert.Equal(PaddingSide.Left, left.Padding);
        Assert.Equal(new long[] { 11, 12, 13, 14, 7, 7, 21, 22 }, left.InputIds);
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0, 1, 1 }, left.AttentionMask);
        Assert.Equal(new long[] { 0, 1, 2, 3, 1, 1, 0, 1 }, Positions(left, 0, 0).Concat(Positions(left, 0, 1)));
        Assert.Equal(new[] { 3, 3 }, left.PooledIndex);
        Assert.Equal(6, left.RealTokenCount);

        var right = new BatchCollator(options with { Padding = PaddingSide.Right }).Collate(rows);
        Assert.Equal(PaddingSide.Right, right.Padding);
        Assert.Equal(new long[] { 11, 12, 13, 14, 21, 22, 7, 7 }, right.InputIds);
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 0, 0 }, right.AttentionMask);
        Assert.Equal(new long[] { 0, 1, 2, 3, 0, 1, 1, 1 }, Positions(right, 2, 0).Concat(Positions(right, 2, 1)));
        Assert.Equal(new[] { 3, 1 }, right.PooledIndex);
    }

    [Fact]
    public void Right_padding_with_an_image_row_keeps_mrope_positions_left_aligned()
    {
        int[] ids = [Vs, .. Repeat(Img, 2), Ve];
        var batch = new BatchCollator(Qwen with { Padding = PaddingSide.Right }).Collate([Row(ids, Image(1, 2, 4)), Row([5, 6, 7, 8, 9, 10])]);
        Assert.Equal(new long[] { 0, 1, 1, 3, 1, 1 }, Positions(batch, 0, 0));
        Assert.Equal(new long[] { 0, 1, 1, 3, 1, 1 }, Positions(batch, 1, 0));
        Assert.Equal(new long[] { 0, 1, 2, 3, 1, 1 }, Positions(batch, 2, 0));
        Assert.Equal(new long[] { 0, 1, 1, 0, 0, 0 }, RowOf(batch.ImageTokenMask, batch, 0));
        Assert.Equal(new[] { 3, 5 }, batch.PooledIndex);
    }

    [Fact]
    public void Two_images_in_one_row_with_vision_markers()
    {
        // T0 VS [4 pads, grid (1,4,4)] VE T1 VS [2 pads, grid (1,2,4)] VE T2
        int[] ids = [100, Vs, .. Repeat(Img, 4), Ve, 101, Vs, .. Repeat(Img, 2), Ve, 102];
        var batch = new BatchCollator(Qwen).Collate([Row(ids, Image(1, 4, 4, 1f), Image(1, 2, 4, 2f))]);

        Assert.Equal(new long[] { 0, 1, 2, 2, 2, 2, 4, 5, 6, 7, 7, 9, 10 }, Positions(batch, 0, 0));
        Assert.Equal(new long[] { 0, 1, 2, 2, 3, 3, 4, 5, 6, 7, 7, 9, 10 }, Positions(batch, 1, 0));
        Assert.Equal(new long[] { 0, 1, 2, 3, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, Positions(batch, 2, 0));
        Assert.Equal(new long[] { 1, 4, 4, 1, 2, 4 }, batch.ImageGridThw);
        Assert.Equal(new[] { 2 }, batch.ImagesPerRow);
        Assert.Equal(6, batch.ImageTokenMask.Sum());

        // Patches are concatenated in image order: 16 rows of the first image, then 8 of the second.
        Assert.Equal(24 * RowLength, batch.PixelValues.Length);
        Assert.Equal(1f, batch.PixelValues[16 * RowLength - 1]);
        Assert.Equal(2f, batch.PixelValues[16 * RowLength]);
    }

    [Fact]
    public void Two_images_in_one_vlm2vec_row_are_sequential()
    {
        int[] ids = [.. Repeat(Img, 4), .. Repeat(Img, 2), 198, 50, 198];
        var batch = new BatchCollator(Qwen).Collate([Row(ids, Image(1, 4, 4), Image(1, 2, 4))]);
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), Positions(batch, 1, 0));
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 0 }, batch.ImageTokenMask);
    }

    [Fact]
    public void Text_rows_mixed_with_image_rows()
    {
        PreparedInput[] rows =
        [
            Row([1, 2, 3]),
            Row([.. Repeat(Img, 1), 198, 9], Image(1, 2, 2, 5f)),
            Row([4, 5, 6, 7, 8]),
            Row([Vs, .. Repeat(Img, 2), Ve, 9], Image(1, 2, 4, 6f)),
        ];
        var batch = new BatchCollator(Qwen).Collate(rows);

        Assert.Equal(4, batch.BatchSize);
        Assert.Equal(5, batch.SequenceLength);
        Assert.Equal(new[] { 0, 1, 0, 1 }, batch.ImagesPerRow);
        Assert.Equal(new long[] { 1, 2, 2, 1, 2, 4 }, batch.ImageGridThw);
        Assert.Equal(new long[] { 1, 1, 0, 1, 2 }, Positions(batch, 0, 0));
        Assert.Equal(new long[] { 1, 1, 0, 1, 2 }, Positions(batch, 2, 1));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, Positions(batch, 1, 2));

        // Row 3 is the only counted item (row 1 has no vision start, so it consumed no grid): as in get_rope_index, row 3
        // takes the batch's first grid, (1, 2, 2) -> 1 merged token, and its second placeholder continues as text.
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, Positions(batch, 0, 3));
        Assert.Equal(new long[] { 0, 1, 1, 0, 0 }, RowOf(batch.ImageTokenMask, batch, 3));
        Assert.Equal(new long[] { 0, 0, 1, 0, 0 }, RowOf(batch.ImageTokenMask, batch, 1));
        Assert.Equal(4 + 8, batch.TotalPatches);
        Assert.Equal(5f, batch.PixelValues[0]);
        Assert.Equal(6f, batch.PixelValues[4 * RowLength]);
        Assert.Equal(new[] { 4, 4, 4, 4 }, batch.PooledIndex);
    }

    [Fact]
    public void Images_are_consumed_in_batch_order_only_by_counted_items()
    {
        // Row 0: VLM2Vec-style image (no vision start) -> not counted. Row 1: chat-style with a vision start; HF's
        // get_rope_index hands it the batch's first grid, (1, 2, 2) = 1 merged token, although row 1's own image has 2.
        PreparedInput[] rows =
        [
            Row([Img, 198], Image(1, 2, 2)),
            Row([Vs, Img, Img, Ve, 50], Image(1, 2, 4)),
        ];
        var batch = new BatchCollator(Qwen).Collate(rows);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, Positions(batch, 0, 1));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, Positions(batch, 2, 1));

        // With only the chat row, its own grid (1, 2, 4) -> merged 1x2 is used.
        var alone = new BatchCollator(Qwen).Collate([rows[1]]);
        Assert.Equal(new long[] { 0, 1, 1, 3, 4 }, Positions(alone, 0, 0));
        Assert.Equal(new long[] { 0, 1, 1, 3, 4 }, Positions(alone, 1, 0));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, Positions(alone, 2, 0));
    }

    [Fact]
    public void Placeholder_run_without_vision_start_is_one_dimensional_even_with_markers_elsewhere()
    {
        // A vision end and image pads but no vision start directly before a pad.
        int[] ids = [100, Vs, 101, .. Repeat(Img, 4), Ve, 102];
        var batch = new BatchCollator(Qwen).Collate([Row(ids, Image(1, 4, 4))]);
        for (var s = 0; s < 3; s++)
        {
            Assert.Equal(Enumerable.Range(0, ids.Length).Select(i => (long)i), Positions(batch, s, 0));
        }
    }

    [Fact]
    public void Stray_placeholders_of_image_less_rows_stay_ordinary_tokens()
    {
        int[] stray = [Img, 198, 10, 11, 198];
        var textOnly = new BatchCollator(Qwen).Collate([Row(stray)]);
        Assert.All(textOnly.ImageTokenMask, m => Assert.Equal(0, m));
        Assert.Equal(0, textOnly.ImageCount);
        Assert.Empty(textOnly.PixelValues);
        Assert.Equal(0, textOnly.PatchRowLength);

        var mixed = new BatchCollator(Qwen).Collate([Row(stray), Row([Img, 198], Image(1, 2, 2))]);
        Assert.Equal(new long[] { 0, 0, 0, 0, 0 }, RowOf(mixed.ImageTokenMask, mixed, 0));
        Assert.Equal(new long[] { 0, 0, 0, 1, 0 }, RowOf(mixed.ImageTokenMask, mixed, 1));
    }

    [Fact]
    public void Text_only_batch_with_vision_markers_takes_the_no_grid_branch()
    {
        // No image in the batch: HF computes cumsum(mask) - 1 without looking at the markers.
        int[] ids = [Vs, Img, Ve, 5];
        var batch = new BatchCollator(Qwen).Collate([Row(ids), Row([1, 2])]);
        Assert.Equal(new long[] { 0, 1, 2, 3 }, Positions(batch, 1, 0));
        Assert.Equal(new long[] { 1, 1, 0, 1 }, Positions(batch, 1, 1));
    }

    [Fact]
    public void Batch_of_one_text_row()
    {
        var batch = new BatchCollator(Qwen).Collate([Row([42])]);
        Assert.Equal(1, batch.BatchSize);
        Assert.Equal(1, batch.SequenceLength);
        Assert.Equal(new long[] { 42 }, batch.InputIds);
        Assert.Equal(new long[] { 0, 0, 0 }, batch.PositionIds);
        Assert.Equal(new[] { 0 }, batch.PooledIndex);
    }

    [Fact]
    public void Errors_name_the_row()
    {
        var collator = new BatchCollator(Qwen);
        Assert.Throws<ArgumentException>(() => collator.Collate([]));

        var empty = Assert.Throws<BatchItemException>(() => collator.Collate([Row([1]), Row([])]));
        Assert.Equal(1, empty.ItemIndex);
        Assert.IsType<InvalidInputException>(empty.InnerException);

        // 3 placeholders for an image that needs 4 tokens.
        var mismatch = Assert.Throws<BatchItemException>(() => collator.Collate([Row([1]), Row([1, 2]), Row([.. Repeat(Img, 3), 9], Image(1, 4, 4))]));
        Assert.Equal(2, mismatch.ItemIndex);
        Assert.Contains("need 4", mismatch.Message, StringComparison.Ordinal);

        var video = Assert.Throws<BatchItemException>(() => collator.Collate([Row([Img], Image(1, 2, 2)), Row([Vs, Vid, Ve])]));
        Assert.Equal(1, video.ItemIndex);
        Assert.Contains("video", video.Message, StringComparison.Ordinal);

        var odd = Assert.Throws<BatchItemException>(() => collator.Collate([Row([Img], new ProcessedImage(new float[3 * RowLength], 1, 1, 3, RowLength))]));
        Assert.Contains("merge size", odd.Message, StringComparison.Ordinal);

        var rowLengths = Assert.Throws<BatchItemException>(() => collator.Collate([Row([Img], Image(1, 2, 2)), Row([Img], new ProcessedImage(new float[4 * 6], 1, 2, 2, 6))]));
        Assert.Equal(1, rowLengths.ItemIndex);
    }

    [Fact]
    public void Vision_start_claiming_more_tokens_than_the_row_has_is_refused()
    {
        // Row 0's image is not counted (no vision start), so row 1's vision start takes row 0's 4-token grid, which
        // does not fit in row 1 (get_rope_index would fail on the shape mismatch too).
        var collator = new BatchCollator(Qwen);
        var error = Assert.Throws<BatchItemException>(() => collator.Collate([Row([.. Repeat(Img, 4), 9], Image(1, 4, 4)), Row([Vs, Img], Image(1, 2, 2))]));
        Assert.Equal(1, error.ItemIndex);
        Assert.Contains("needs 4 tokens", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Counted_items_beyond_the_batch_images_are_refused()
    {
        // A stray vision start + placeholder in an image-less row is counted once the batch has images.
        var collator = new BatchCollator(Qwen);
        var error = Assert.Throws<BatchItemException>(() => collator.Collate([Row([Vs, Img, Ve], Image(1, 2, 2)), Row([Vs, Img, Ve])]));
        Assert.Equal(1, error.ItemIndex);
        Assert.Contains("grid #2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Special_ids_come_from_the_options()
    {
        var custom = new BatchCollatorOptions { PadTokenId = 0, ImageTokenId = 5, VideoTokenId = 6, VisionStartTokenId = 4, SpatialMergeSize = 2 };
        var batch = new BatchCollator(custom).Collate([Row([9, 4, 5, 5, 3], Image(1, 2, 4)), Row([8])]);
        Assert.Equal(new long[] { 0, 1, 2, 2, 4 }, Positions(batch, 0, 0));
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, Positions(batch, 2, 0));
        Assert.Equal(new long[] { 0, 0, 1, 1, 0 }, RowOf(batch.ImageTokenMask, batch, 0));
        Assert.Equal(new long[] { 0, 0, 0, 0, 8 }, RowOf(batch.InputIds, batch, 1));
    }

    [Fact]
    public void Options_come_from_the_model_config()
    {
        var config = Qwen2VlConfig.Load(Path.Combine(SharedData.Qwen2VlTokenizerFolder, "config.json"));
        var options = BatchCollatorOptions.FromConfig(config, padTokenId: 151643);
        Assert.Equal(151655, options.ImageTokenId);
        Assert.Equal(151656, options.VideoTokenId);
        Assert.Equal(151652, options.VisionStartTokenId);
        Assert.Equal(2, options.SpatialMergeSize);
        Assert.Equal(PaddingSide.Left, options.Padding);

        var other = BatchCollatorOptions.FromConfig(
            config with { ImageTokenId = 7, VideoTokenId = 8, VisionStartTokenId = 6, Vision = config.Vision with { SpatialMergeSize = 4 } },
            padTokenId: 3,
            PaddingSide.Right);
        Assert.Equal((7, 8, 6, 4, 3, PaddingSide.Right),
            (other.ImageTokenId, other.VideoTokenId, other.VisionStartTokenId, other.SpatialMergeSize, other.PadTokenId, other.Padding));
    }
}
