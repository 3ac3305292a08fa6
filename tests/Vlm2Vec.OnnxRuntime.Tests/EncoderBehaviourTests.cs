using Vlm2Vec.OnnxRuntime.Tests.Support;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.OnnxRuntime.Tests;

/// <summary>Concurrency, vision-run batching, input checks and cancellation of <see cref="OnnxVlm2VecEncoder"/>.</summary>
[Collection(ExportedBundlesCollection.Name)]
public sealed class EncoderBehaviourTests(ExportedBundles bundles)
{
    private static readonly string[] TiedCases = ["text_left_padded", "vlm2vec_image_mixed", "chat_mrope_left_padded", "right_padded_mixed", "single_chat_image"];

    [Fact]
    public async Task Concurrent_callers_get_exactly_the_serial_results()
    {
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"), new OnnxVlm2VecEncoderOptions { IntraOpThreads = 1 });
        var batches = TiedCases.Select(c => ReferenceCases.Batch(ReferenceCases.Case("tiny-qwen2vl-tied", c), 276)).ToArray();
        var serial = new List<float[][]>();
        foreach (var batch in batches)
        {
            serial.Add(await encoder.EncodeAsync(batch));
        }

        // 8 callers × 5 batches each, interleaved, on the thread pool.
        var tasks = Enumerable.Range(0, 40).Select(i => Task.Run(async () => (Index: i % batches.Length, Result: await encoder.EncodeAsync(batches[i % batches.Length])))).ToArray();
        var results = await Task.WhenAll(tasks);

        foreach (var (index, result) in results)
        {
            Assert.Equal(serial[index].Length, result.Length);
            for (var row = 0; row < result.Length; row++)
            {
                Assert.Equal(serial[index][row], result[row]);
            }
        }
    }

    [Fact]
    public async Task Thread_spinning_on_or_off_and_an_explicit_spinning_entry_load_and_give_the_same_embeddings()
    {
        // The encoder sets session.intra_op.allow_spinning itself unless the caller's entries name the key: both ways
        // must load, and thread scheduling must not change a single bit of the result.
        var batch = ReferenceCases.Batch(ReferenceCases.Case("tiny-qwen2vl-tied", "vlm2vec_image_mixed"), 276);
        using var off = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"), new OnnxVlm2VecEncoderOptions { IntraOpThreads = 2 });
        using var on = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"), new OnnxVlm2VecEncoderOptions { IntraOpThreads = 2, IntraOpSpinning = true });
        using var explicitEntry = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"), new OnnxVlm2VecEncoderOptions
        {
            IntraOpThreads = 2,
            SessionConfigEntries = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "1" },
        });

        var expected = await off.EncodeAsync(batch);
        Assert.Equal(expected, await on.EncodeAsync(batch));
        Assert.Equal(expected, await explicitEntry.EncodeAsync(batch));
    }

    [Fact]
    public async Task Splitting_vision_runs_by_a_small_patch_budget_changes_nothing()
    {
        var folder = ReferenceCases.Case("tiny-qwen2vl-tied", "chat_mrope_left_padded");
        var batch = ReferenceCases.Batch(folder, 276);
        using var whole = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"));
        using var split = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"), new OnnxVlm2VecEncoderOptions { MaxPatchesPerVisionRun = 1 });

        var a = await whole.EncodeAsync(batch);
        var b = await split.EncodeAsync(batch);

        var expected = ReferenceCases.Floats(folder, "embeddings.npy").Data;
        Assert.True(Numerics.MaxAbs(expected, a) <= 1e-5);
        Assert.True(Numerics.MaxAbs(expected, b) <= 1e-5);
    }

    [Fact]
    public void Images_of_one_grid_share_a_run_until_the_budget()
    {
        // Grids: 4×4, 4×4, 2×2, 4×4 (t = 2: a two-frame video), 4×4.
        long[] grids = [1, 4, 4, 1, 4, 4, 1, 2, 2, 2, 4, 4, 1, 4, 4];
        var batch = BatchWithGrids(grids);

        var runs = VisionRunPlan.Plan(batch, 2, maxPatchesPerRun: 48, out var tokens);

        Assert.Equal((16 + 16 + 4 + 32 + 16) / 4, tokens);
        Assert.Equal([(0, 2, 2), (2, 1, 1), (3, 2, 3)], runs.Select(r => (r.FirstImage, r.ImageCount, r.Slices)));
        Assert.Equal([0, 8, 9], runs.Select(r => r.FeatureRowOffset));
        Assert.Equal([0L, 32L * 1176, 36L * 1176], runs.Select(r => r.PixelOffset));

        var small = VisionRunPlan.Plan(batch, 2, maxPatchesPerRun: 16, out _);
        Assert.Equal(5, small.Count);
    }

    [Fact]
    public void Rotary_ids_follow_the_merge_block_order()
    {
        // spec §4.7: for a 4×4 grid the first rows are (0,0), (0,1), (1,0), (1,1), then (0,2), (0,3), (1,2), (1,3).
        var ids = VisionRunPlan.RotaryIds(4, 4, 2);
        Assert.Equal([0L, 0, 0, 1, 1, 0, 1, 1, 0, 2, 0, 3, 1, 2, 1, 3], ids[..16]);
        Assert.Same(ids, VisionRunPlan.RotaryIds(4, 4, 2));
    }

    [Fact]
    public async Task Image_tokens_that_do_not_match_the_images_are_an_input_error()
    {
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"));
        var good = ReferenceCases.Batch(ReferenceCases.Case("tiny-qwen2vl-tied", "vlm2vec_image_mixed"), 276);
        var mask = (long[])good.ImageTokenMask.Clone();
        mask[Array.IndexOf(mask, 1L)] = 0;
        var bad = Rebuild(good, imageTokenMask: mask);

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => encoder.EncodeAsync(bad));
        Assert.Contains("ImageTokenMask marks 4 image-token positions but the images give 5 feature rows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inconsistent_arrays_are_an_input_error()
    {
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"));
        var good = ReferenceCases.Batch(ReferenceCases.Case("tiny-qwen2vl-tied", "text_left_padded"), 276);
        var bad = Rebuild(good, positionIds: good.PositionIds[..^1]);

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => encoder.EncodeAsync(bad));
        Assert.Contains("PositionIds has", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_token_cancels_and_the_encoder_stays_usable()
    {
        using var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"));
        var batch = ReferenceCases.Batch(ReferenceCases.Case("tiny-qwen2vl-tied", "text_left_padded"), 276);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => encoder.EncodeAsync(batch, cancelled.Token));
        Assert.Equal(3, (await encoder.EncodeAsync(batch)).Length);
    }

    [Fact]
    public async Task A_disposed_encoder_refuses_work()
    {
        var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"));
        encoder.Dispose();
        encoder.Dispose();
        var batch = ReferenceCases.Batch(ReferenceCases.Case("tiny-qwen2vl-tied", "text_left_padded"), 276);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => encoder.EncodeAsync(batch));
    }

    [Fact]
    public async Task Disposing_while_callers_run_lets_them_finish_or_refuses_them()
    {
        var encoder = OnnxVlm2VecEncoder.FromBundle(bundles.Get("tiny-qwen2vl-tied"));
        var batch = ReferenceCases.Batch(ReferenceCases.Case("tiny-qwen2vl-tied", "chat_mrope_left_padded"), 276);
        var expected = await encoder.EncodeAsync(batch);
        using var start = new ManualResetEventSlim();
        var callers = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            var outcomes = new List<bool>();
            for (var i = 0; i < 20; i++)
            {
                try
                {
                    var result = await encoder.EncodeAsync(batch);
                    Assert.Equal(expected[0], result[0]);
                    outcomes.Add(true);
                }
                catch (ObjectDisposedException)
                {
                    outcomes.Add(false);
                }
            }

            return outcomes;
        })).ToArray();

        start.Set();
        await Task.Delay(20);
        encoder.Dispose();
        var all = (await Task.WhenAll(callers)).SelectMany(o => o).ToList();

        Assert.Equal(120, all.Count);
        Assert.Contains(false, all);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => encoder.EncodeAsync(batch));
    }

    private static CollatedBatch BatchWithGrids(long[] grids)
    {
        var patches = 0L;
        for (var i = 0; i < grids.Length; i += 3)
        {
            patches += grids[i] * grids[i + 1] * grids[i + 2];
        }

        return new CollatedBatch
        {
            BatchSize = 1,
            SequenceLength = 1,
            InputIds = [0],
            AttentionMask = [1],
            PositionIds = [0, 0, 0],
            ImageTokenMask = [0],
            PixelValues = new float[patches * 1176],
            ImageGridThw = grids,
            ImagesPerRow = [grids.Length / 3],
            PooledIndex = [0],
            Padding = PaddingSide.Left,
            PatchRowLength = 1176,
        };
    }

    private static CollatedBatch Rebuild(CollatedBatch b, long[]? imageTokenMask = null, long[]? positionIds = null) => new()
    {
        BatchSize = b.BatchSize,
        SequenceLength = b.SequenceLength,
        InputIds = b.InputIds,
        AttentionMask = b.AttentionMask,
        PositionIds = positionIds ?? b.PositionIds,
        ImageTokenMask = imageTokenMask ?? b.ImageTokenMask,
        PixelValues = b.PixelValues,
        ImageGridThw = b.ImageGridThw,
        ImagesPerRow = b.ImagesPerRow,
        PooledIndex = b.PooledIndex,
        Padding = b.Padding,
        PatchRowLength = b.PatchRowLength,
    };
}
