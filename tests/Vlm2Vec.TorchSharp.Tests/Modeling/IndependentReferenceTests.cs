using Vlm2Vec.TorchSharp.Modeling;
using static TorchSharp.torch;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>
/// The TorchSharp model against <see cref="NaiveQwen2VlReference"/> (float64 scalar loops written from the spec), on
/// every position of padded batches: text-only, VLM2Vec image rows (1-D positions), chat rows with vision markers
/// (M-RoPE), two images in a row, images of different grids, temporal grids.
/// </summary>
public sealed class IndependentReferenceTests
{
    public IndependentReferenceTests() => TorchSharpRuntime.EnsureLoaded();

    private const double HiddenTolerance = 1e-4;

    [Fact]
    public void Text_only_left_padded_batch_matches_on_every_position()
    {
        using var model = T.Create(seed: 11);
        var rows = new[] { T.Row(0, 5, 6, 7, 8, 9), T.Row(0, 10, 11), T.Row(0, 12) };
        AssertMatchesReference(model, rows, left: true, images: []);
    }

    [Fact]
    public void Text_only_right_padded_batch_matches_on_every_position()
    {
        using var model = T.Create(seed: 12);
        var rows = new[] { T.Row(0, 5, 6, 7), T.Row(0, 10, 11, 12, 13, 14) };
        AssertMatchesReference(model, rows, left: false, images: []);
    }

    [Fact]
    public void Vlm2Vec_image_rows_with_two_images_and_different_grids_match()
    {
        using var model = T.Create(seed: 13);
        // Row 0: two images (grids 4x4 → 4 tokens, 2x6 → 3 tokens); row 1: one 6x4 image (6 tokens); row 2: text only.
        var row0 = T.Row(4, 20).Concat(T.Row(3, 21, 22)).ToArray();
        var rows = new[] { row0, T.Row(6, 23, 24, 25), T.Row(0, 26, 27) };
        (long, long, long, float[])[] images =
        [
            (1, 4, 4, T.Pixels(1, 4, 4, 1)),
            (1, 2, 6, T.Pixels(1, 2, 6, 2)),
            (1, 6, 4, T.Pixels(1, 6, 4, 3)),
        ];
        AssertMatchesReference(model, rows, left: true, images);
        AssertMatchesReference(model, rows, left: false, images);
    }

    [Fact]
    public void Chat_rows_with_vision_markers_use_mrope_and_match()
    {
        using var model = T.Create(seed: 14);
        var chat = new long[] { 30, 31, T.VisionStart }.Concat(T.Row(6)).Concat(new long[] { T.VisionEnd, 32, 33 }).ToArray();
        var plain = new long[] { 40, T.VisionStart }.Concat(T.Row(4)).Concat(new long[] { T.VisionEnd }).ToArray();
        (long, long, long, float[])[] images = [(1, 4, 6, T.Pixels(1, 4, 6, 4)), (1, 4, 4, T.Pixels(1, 4, 4, 5))];
        AssertMatchesReference(model, [chat, plain], left: true, images, expectMrope: true);
    }

    [Fact]
    public void Temporal_grid_attends_within_each_slice_and_matches()
    {
        using var model = T.Create(seed: 15);
        var rows = new[] { T.Row(8, 50, 51) }; // grid (2, 4, 4): 32 patch rows, 8 tokens
        AssertMatchesReference(model, rows, left: true, [(2, 4, 4, T.Pixels(2, 4, 4, 6))]);
    }

    [Fact]
    public void Vision_tower_output_matches()
    {
        using var model = T.Create(seed: 16);
        var reference = new NaiveQwen2VlReference(model);
        var pixels = T.Pixels(1, 4, 6, 7).Concat(T.Pixels(2, 2, 2, 8)).ToArray();
        long[] grid = [1, 4, 6, 2, 2, 2];
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var features = model.GetImageFeatures(tensor(pixels, [pixels.Length / T.PatchRow, T.PatchRow]), tensor(grid, [2, 3]));
        var expected = reference.Vision(pixels, grid);
        var actual = features.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(MaxDiff(expected, actual) < HiddenTolerance, $"vision features differ by {MaxDiff(expected, actual)}");
    }

    private static void AssertMatchesReference(Qwen2VlForConditionalGeneration model, long[][] rows, bool left, (long T, long H, long W, float[] Pixels)[] images, bool expectMrope = false)
    {
        var reference = new NaiveQwen2VlReference(model);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var output = T.Run(model, rows, left, images);
        var (ids, mask, length) = T.Pad(rows, left);
        var positions = output.PositionIds.contiguous().data<long>().ToArray();
        var plane = rows.Length * length;
        var threeStreamsEqual = Enumerable.Range(0, plane).All(i => positions[i] == positions[plane + i] && positions[i] == positions[(2 * plane) + i]);
        Assert.Equal(!expectMrope, threeStreamsEqual);

        double[]? features = null;
        if (images.Length > 0)
        {
            features = reference.Vision(images.SelectMany(i => i.Pixels).ToArray(), images.SelectMany(i => new[] { i.T, i.H, i.W }).ToArray());
        }

        var expected = reference.Decoder(ids, mask, rows.Length, length, positions, features);
        var actual = output.LastHiddenState.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        Assert.True(MaxDiff(expected, actual) < HiddenTolerance, $"hidden states differ by {MaxDiff(expected, actual)}");

        // Pooled embedding: VLM2Vec's rule, then L2 normalisation.
        var d = model.Dimension;
        for (var b = 0; b < rows.Length; b++)
        {
            var column = left ? length - 1 : rows[b].Length - 1;
            var vector = expected.AsSpan(((b * length) + column) * d, d).ToArray();
            var norm = Math.Sqrt(vector.Sum(v => v * v));
            var pooled = T.Vector(output.Embeddings, b);
            for (var i = 0; i < d; i++)
            {
                Assert.True(Math.Abs((vector[i] / norm) - pooled[i]) < 1e-5, $"row {b} embedding[{i}]: expected {vector[i] / norm}, got {pooled[i]}");
            }
        }
    }

    private static double MaxDiff(double[] a, double[] b)
    {
        double max = 0;
        for (var i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }
}
