using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Modeling;
using static TorchSharp.torch;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary><see cref="TorchSharpVlm2VecEncoder"/> on collated batches, and the image-count checks.</summary>
public sealed class EncoderTests
{
    public EncoderTests() => TorchSharpRuntime.EnsureLoaded();

    [Fact]
    public async Task Encoder_from_a_model_folder_embeds_prepared_inputs_end_to_end()
    {
        // A tiny random model with Qwen's special ids and vocabulary size, beside the real Qwen2-VL tokenizer and
        // preprocessor_config.json (shared/data), so that FromPretrained builds the real preprocessing.
        using var folder = new TempFolder();
        var config = T.Config() with
        {
            VocabSize = 151936, BosTokenId = 151643, EosTokenId = 151645, VisionStartTokenId = 151652, VisionEndTokenId = 151653,
            VisionTokenId = 151654, ImageTokenId = 151655, VideoTokenId = 151656,
        };
        using (var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = 51, InitializerRange = 0.2 }))
        {
            model.SavePretrained(folder.Path);
        }

        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json", "vocab.json", "merges.txt" })
        {
            File.Copy(SharedData.Path("tokenizer", "qwen2-vl", file), folder.Combine(file));
        }

        using var encoder = TorchSharpVlm2VecEncoder.FromPretrained(folder.Path);
        Assert.Equal(64, encoder.Info.Dimension);
        Assert.Equal("torchsharp-cpu", encoder.Info.Engine);
        Assert.Equal("float32", encoder.Info.DType);
        Assert.Equal("qwen2_vl", encoder.Info.Architecture);
        Assert.Equal(Path.GetFileName(folder.Path), encoder.Info.ModelId);
        Assert.Equal(151655, encoder.Preprocessor.Config.ImageTokenId);

        var image = ImageInput.FromFile(Path.Combine(ReferenceFixtures.Root, "images", "img_h56_w84.png"));
        MultimodalInput[] inputs =
        [
            MultimodalInput.FromImage(image, "Represent the given image."),
            MultimodalInput.FromText("A cat sitting on a red sofa.", "Find an image that matches the given caption."),
        ];
        var prepared = inputs.Select(encoder.Preprocessor.Prepare).ToList();
        var batch = encoder.Preprocessor.Collate(prepared);
        Assert.Equal(6, batch.ImageTokenMask.Sum()); // grid (1, 4, 6) → 6 merged tokens
        var vectors = await encoder.EncodeAsync(batch);
        Assert.Equal(2, vectors.Length);
        for (var i = 0; i < vectors.Length; i++)
        {
            Assert.Equal(64, vectors[i].Length);
            Assert.Equal(1.0, Math.Sqrt(vectors[i].Sum(v => (double)v * v)), 5);
            var alone = await encoder.EncodeAsync(encoder.Preprocessor.Collate([prepared[i]]));
            Assert.True(T.Cosine(alone[0], vectors[i]) >= 0.99999, $"row {i}: alone vs in batch cosine {T.Cosine(alone[0], vectors[i])}");
        }

        // The low-level forward on the same arrays (positions recomputed by the model) gives the same vectors.
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var output = encoder.Model.forward(new Qwen2VlForwardInput
        {
            InputIds = tensor(batch.InputIds, [batch.BatchSize, batch.SequenceLength]),
            AttentionMask = tensor(batch.AttentionMask, [batch.BatchSize, batch.SequenceLength]),
            PixelValues = tensor(batch.PixelValues, [batch.TotalPatches, batch.PatchRowLength]),
            ImageGridThw = tensor(batch.ImageGridThw, [batch.ImageCount, 3]),
        });
        Assert.Equal(batch.PositionIds, output.PositionIds.contiguous().data<long>().ToArray());
        Assert.True(T.MaxAbsDiff(T.Vector(output.Embeddings, 0), vectors[0]) < 1e-6);
    }

    [Fact]
    public void A_preprocessor_of_another_model_is_refused()
    {
        var preprocessor = Vlm2VecPreprocessor.FromFolder(SharedData.Qwen2VlTokenizerFolder);
        using var model = T.Create(seed: 50); // tiny ids (image 93), not Qwen's
        var error = Assert.Throws<ModelFormatException>(() => new TorchSharpVlm2VecEncoder(model, preprocessor));
        Assert.Contains("another model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_calls_are_serialised_and_agree()
    {
        using var encoder = new TorchSharpVlm2VecEncoder(T.Create(seed: 53), null, "tiny", null, validate: false);
        var batch = Collate([T.Row(4, 11), T.Row(0, 12, 13)], [[(1, 4, 4, T.Pixels(1, 4, 4, 54))], []], encoder.Model.Config);
        var first = await encoder.EncodeAsync(batch);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => encoder.EncodeAsync(batch))));
        Assert.All(results, r =>
        {
            Assert.Equal(first[0], r[0]);
            Assert.Equal(first[1], r[1]);
        });
    }

    [Fact]
    public async Task Stray_placeholder_of_an_image_less_row_stays_a_token()
    {
        // VLM2Vec's WebQA/EDIS quirk: a text-only row keeps a literal image placeholder; the collator's mask leaves it out.
        using var encoder = new TorchSharpVlm2VecEncoder(T.Create(seed: 55), null, "tiny", null, validate: false);
        var batch = Collate([T.Row(4, 20), [T.ImageToken, 21, 22]], [[(1, 4, 4, T.Pixels(1, 4, 4, 56))], []], encoder.Model.Config);
        var vectors = await encoder.EncodeAsync(batch);
        Assert.Equal(2, vectors.Length);

        // Alone, the text-only row gives the same vector (its placeholder is an ordinary token embedding).
        var alone = await encoder.EncodeAsync(Collate([[T.ImageToken, 21, 22]], [[]], encoder.Model.Config));
        Assert.True(T.Cosine(alone[0], vectors[1]) >= 0.99999);
    }

    [Fact]
    public void Image_token_and_feature_counts_that_differ_are_refused_with_both_counts()
    {
        using var model = T.Create(seed: 57);
        using var scope = NewDisposeScope();
        var error = Assert.Throws<InvalidInputException>(() => T.Run(model, [T.Row(3, 5, 6)], images: [(1, 4, 4, T.Pixels(1, 4, 4, 58))]));
        Assert.Contains("3 image tokens", error.Message, StringComparison.Ordinal);
        Assert.Contains("4 features", error.Message, StringComparison.Ordinal);

        var explicitMask = Assert.Throws<InvalidInputException>(() => model.forward(new Qwen2VlForwardInput
        {
            InputIds = tensor(new long[] { T.ImageToken, 5 }, [1, 2]),
            ImageTokenMask = tensor(new long[] { 1, 0 }, [1, 2]),
        }));
        Assert.Contains("0 features", explicitMask.Message, StringComparison.Ordinal);

        var gridMismatch = Assert.Throws<InvalidInputException>(() => model.forward(new Qwen2VlForwardInput
        {
            InputIds = tensor(T.Row(4, 5), [1, 5]),
            PixelValues = tensor(T.Pixels(1, 4, 4, 59), [16, T.PatchRow]),
            ImageGridThw = tensor(new long[] { 1, 4, 6 }, [1, 3]),
        }));
        Assert.Contains("24 patch rows", gridMismatch.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inconsistent_collated_batches_are_refused()
    {
        using var encoder = new TorchSharpVlm2VecEncoder(T.Create(seed: 60), null, "tiny", null, validate: false);
        var batch = Collate([T.Row(0, 5, 6)], [[]], encoder.Model.Config);
        var broken = new CollatedBatch
        {
            BatchSize = batch.BatchSize,
            SequenceLength = batch.SequenceLength,
            InputIds = batch.InputIds,
            AttentionMask = batch.AttentionMask,
            PositionIds = batch.PositionIds[..^1],
            ImageTokenMask = batch.ImageTokenMask,
            PixelValues = batch.PixelValues,
            ImageGridThw = batch.ImageGridThw,
            ImagesPerRow = batch.ImagesPerRow,
            PooledIndex = batch.PooledIndex,
            Padding = batch.Padding,
            PatchRowLength = batch.PatchRowLength,
        };
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => encoder.EncodeAsync(broken));
        Assert.Contains("PositionIds", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A left-padded collated batch with positions from get_rope_index and a per-row image-token mask.</summary>
    internal static CollatedBatch Collate(long[][] rows, (long T, long H, long W, float[] Pixels)[][] images, Qwen2VlConfig config)
    {
        var (ids, mask, length) = T.Pad(rows, left: true);
        var tokenMask = new long[ids.Length];
        for (var b = 0; b < rows.Length; b++)
        {
            if (images[b].Length == 0)
            {
                continue;
            }

            for (var j = 0; j < length; j++)
            {
                tokenMask[(b * length) + j] = ids[(b * length) + j] == T.ImageToken && mask[(b * length) + j] == 1 ? 1 : 0;
            }
        }

        var all = images.SelectMany(r => r).ToArray();
        long[]? grid = all.Length == 0 ? null : all.SelectMany(i => new[] { i.T, i.H, i.W }).ToArray();
        return new CollatedBatch
        {
            BatchSize = rows.Length,
            SequenceLength = length,
            InputIds = ids,
            AttentionMask = mask,
            PositionIds = Qwen2VlRopeIndex.Compute(ids, mask, rows.Length, length, grid, config),
            ImageTokenMask = tokenMask,
            PixelValues = all.SelectMany(i => i.Pixels).ToArray(),
            ImageGridThw = grid ?? [],
            ImagesPerRow = images.Select(r => r.Length).ToArray(),
            PooledIndex = Enumerable.Repeat(length - 1, rows.Length).ToArray(),
            Padding = PaddingSide.Left,
            PatchRowLength = T.PatchRow,
        };
    }
}
