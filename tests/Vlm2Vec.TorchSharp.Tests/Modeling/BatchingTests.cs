using Vlm2Vec.TorchSharp.Modeling;
using static TorchSharp.torch;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>A row's embedding does not depend on what else is in its batch or on the padding side (spec §4.7).</summary>
public sealed class BatchingTests
{
    public BatchingTests() => TorchSharpRuntime.EnsureLoaded();

    private const double Fp32Cosine = 0.99999;

    [Fact]
    public void Image_row_alone_equals_the_same_row_in_left_and_right_padded_batches()
    {
        using var model = T.Create(seed: 21);
        var target = T.Row(4, 5, 6, 7);
        var image = (1L, 4L, 4L, T.Pixels(1, 4, 4, 9));
        var alone = Embed(model, [target], true, [image])[0];

        var others = new[] { T.Row(0, 8, 9, 10, 11, 12, 13, 14, 15), T.Row(6, 16) };
        (long, long, long, float[])[] images = [image, (1, 6, 4, T.Pixels(1, 6, 4, 10))];
        foreach (var left in new[] { true, false })
        {
            var batch = Embed(model, [target, .. others], left, images);
            Assert.True(T.Cosine(alone, batch[0]) >= Fp32Cosine, $"left={left}: cosine {T.Cosine(alone, batch[0])}");
        }
    }

    [Fact]
    public void Text_only_rows_keep_their_embedding_in_mixed_batches()
    {
        using var model = T.Create(seed: 22);
        var text = T.Row(0, 30, 31, 32);
        var alone = Embed(model, [text], true, [])[0];
        var mixed = Embed(model, [T.Row(4, 33), text, T.Row(0, 34, 35, 36, 37, 38, 39)], true, [(1, 4, 4, T.Pixels(1, 4, 4, 11))]);
        Assert.True(T.Cosine(alone, mixed[1]) >= Fp32Cosine, $"cosine {T.Cosine(alone, mixed[1])}");

        var extraPad = Embed(model, [text], true, [], extraPadding: 5)[0];
        Assert.True(T.Cosine(alone, extraPad) >= Fp32Cosine, $"extra left padding: cosine {T.Cosine(alone, extraPad)}");
    }

    [Fact]
    public void Two_images_in_one_row_are_scattered_in_reading_order()
    {
        using var model = T.Create(seed: 23);
        var row = T.Row(4, 40).Concat(T.Row(6, 41)).ToArray();
        var a = (1L, 4L, 4L, T.Pixels(1, 4, 4, 12));
        var b = (1L, 6L, 4L, T.Pixels(1, 6, 4, 13));
        var inOrder = Embed(model, [row], true, [a, b])[0];
        var inBatch = Embed(model, [T.Row(0, 42, 43), row], false, [a, b])[1];
        Assert.True(T.Cosine(inOrder, inBatch) >= Fp32Cosine);

        // Same token layout, other images: the embedding must change (features really are used).
        var other = Embed(model, [row], true, [(1, 4, 4, T.Pixels(1, 4, 4, 14)), b])[0];
        Assert.True(T.Cosine(inOrder, other) < 0.9999, "swapping the first image's pixels did not change the embedding");
    }

    [Fact]
    public void Vision_attention_is_block_diagonal_per_image_and_temporal_slice()
    {
        using var model = T.Create(seed: 24);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var p1 = T.Pixels(1, 4, 6, 15);
        var p2 = T.Pixels(1, 2, 2, 16);
        var p3 = T.Pixels(1, 2, 2, 17);
        float[] Features(float[] pixels, long[] grid) => model
            .GetImageFeatures(tensor(pixels, [pixels.Length / T.PatchRow, T.PatchRow]), tensor(grid, [grid.Length / 3, 3]))
            .contiguous().data<float>().ToArray();

        var joint = Features([.. p1, .. p2], [1, 4, 6, 1, 2, 2]);
        var separate = Features(p1, [1, 4, 6]).Concat(Features(p2, [1, 2, 2])).ToArray();
        Assert.True(T.MaxAbsDiff(joint, separate) < 1e-5, $"images attend to each other: {T.MaxAbsDiff(joint, separate)}");

        // A (2, 2, 2) grid is two temporal slices that never attend to each other.
        var video = Features([.. p2, .. p3], [2, 2, 2]);
        var slices = Features(p2, [1, 2, 2]).Concat(Features(p3, [1, 2, 2])).ToArray();
        Assert.True(T.MaxAbsDiff(video, slices) < 1e-5, $"temporal slices attend to each other: {T.MaxAbsDiff(video, slices)}");
    }

    [Fact]
    public void Large_equal_images_run_in_attention_groups_with_the_results_of_one_at_a_time()
    {
        // Three 448×448-sized grids (1024 patches): 2 heads × 1024² float scores = 8 MiB per image, so the 16 MiB budget
        // groups them as 2 + 1. Grouping must not change anything.
        Assert.Equal(16L << 20, VisionAttention.MaxScoreBytesPerGroup);
        using var model = T.Create(seed: 25);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var images = new[] { T.Pixels(1, 32, 32, 31), T.Pixels(1, 32, 32, 32), T.Pixels(1, 32, 32, 33) };
        float[] Features(float[] pixels, long[] grid) => model
            .GetImageFeatures(tensor(pixels, [pixels.Length / T.PatchRow, T.PatchRow]), tensor(grid, [grid.Length / 3, 3]))
            .contiguous().data<float>().ToArray();

        var joint = Features([.. images[0], .. images[1], .. images[2]], [1, 32, 32, 1, 32, 32, 1, 32, 32]);
        var separate = images.SelectMany(p => Features(p, [1, 32, 32])).ToArray();
        Assert.Equal(separate.Length, joint.Length);
        Assert.True(T.MaxAbsDiff(joint, separate) < 1e-5, $"grouped attention differs: {T.MaxAbsDiff(joint, separate)}");
    }

    [Fact]
    public void Pooling_takes_the_last_column_for_left_padding_and_the_last_real_token_otherwise()
    {
        using var scope = NewDisposeScope();
        var hidden = arange(2 * 3 * 2, dtype: ScalarType.Float32).reshape(2, 3, 2) + 1;
        var left = Qwen2VlForConditionalGeneration.Pool(hidden, tensor(new long[] { 0, 1, 1, 1, 1, 1 }, [2, 3]));
        Assert.Equal(Normalised(5, 6).Concat(Normalised(11, 12)), left.data<float>().ToArray());

        var right = Qwen2VlForConditionalGeneration.Pool(hidden, tensor(new long[] { 1, 1, 0, 1, 1, 1 }, [2, 3]));
        Assert.Equal(Normalised(3, 4).Concat(Normalised(11, 12)), right.data<float>().ToArray());

        var zero = Qwen2VlForConditionalGeneration.Pool(zeros(1, 2, 3), null);
        Assert.All(zero.data<float>().ToArray(), v => Assert.Equal(0f, v)); // max(‖x‖, 1e-12): no NaN
    }

    [Fact]
    public void Hidden_states_follow_the_reference_tuple_convention()
    {
        using var model = T.Create(seed: 25, config: T.Config(layers: 3));
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var output = T.Run(model, [T.Row(4, 50, 51)], images: [(1, 4, 4, T.Pixels(1, 4, 4, 18))], hiddenStates: true);
        var states = output.HiddenStates!;
        Assert.Equal(4, states.Count);
        Assert.Same(output.LastHiddenState, states[^1]);
        // Entry 0 is the input embeddings: text positions equal the embedding rows, image positions differ from them.
        var embed = model.named_parameters().Single(p => p.name == "model.embed_tokens.weight").parameter;
        Assert.True(states[0][0, 4].allclose(embed[50]));
        Assert.False(states[0][0, 0].allclose(embed[T.ImageToken]));
    }

    [Fact]
    public void Eager_and_sdpa_agree()
    {
        using var eager = T.Create(seed: 26);
        using var sdpa = T.Create(seed: 26, attention: Qwen2VlAttentionImplementation.Sdpa);
        var rows = new[] { T.Row(4, 60, 61), T.Row(0, 62, 63, 64, 65, 66, 67) };
        (long, long, long, float[])[] images = [(1, 4, 4, T.Pixels(1, 4, 4, 19))];
        var a = Embed(eager, rows, true, images);
        var b = Embed(sdpa, rows, true, images);
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.True(T.MaxAbsDiff(a[i], b[i]) < 1e-5, $"row {i}: {T.MaxAbsDiff(a[i], b[i])}");
        }
    }

    [Fact]
    public void Bfloat16_stays_close_to_float32()
    {
        using var fp32 = T.Create(seed: 27);
        using var bf16 = T.Create(seed: 27, dtype: ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, bf16.parameters().First().dtype);
        var rows = new[] { T.Row(4, 70, 71, 72), T.Row(0, 73, 74) };
        (long, long, long, float[])[] images = [(1, 4, 4, T.Pixels(1, 4, 4, 20))];
        var a = Embed(fp32, rows, true, images);
        var b = Embed(bf16, rows, true, images);
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.True(T.Cosine(a[i], b[i]) >= 0.99, $"row {i}: cosine {T.Cosine(a[i], b[i])}");
        }
    }

    [Fact]
    public void Forward_is_deterministic()
    {
        using var model = T.Create(seed: 28);
        var rows = new[] { T.Row(4, 80, 81), T.Row(0, 82) };
        (long, long, long, float[])[] images = [(1, 4, 4, T.Pixels(1, 4, 4, 21))];
        var a = Embed(model, rows, true, images);
        var b = Embed(model, rows, true, images);
        Assert.Equal(a[0], b[0]);
        Assert.Equal(a[1], b[1]);
    }

    internal static float[][] Embed(Qwen2VlForConditionalGeneration model, long[][] rows, bool left, (long T, long H, long W, float[] Pixels)[] images, int extraPadding = 0)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var output = T.Run(model, rows, left, images, extraPadding: extraPadding);
        return Enumerable.Range(0, rows.Length).Select(i => T.Vector(output.Embeddings, i)).ToArray();
    }

    private static float[] Normalised(float x, float y)
    {
        var norm = MathF.Sqrt((x * x) + (y * y));
        return [x / norm, y / norm];
    }
}
