using Vlm2Vec.Core.Tests.Batching;

namespace Vlm2Vec.Core.Tests.Facade;

public sealed class Vlm2VecEmbedderTests
{
    private static MultimodalInput Text(int words) => MultimodalInput.FromText(string.Join(' ', Enumerable.Range(0, words).Select(i => $"w{i}")), "Find:");

    private static List<MultimodalInput> MixedInputs() =>
    [
        Text(3),
        MultimodalInput.FromImage(FakeImagePipeline.Image(1, 4, 6), "Represent the given image."),
        Text(30),
        MmebCatalog.Get("WebQA").CreateQuery("Which body part?"),
        MultimodalInput.FromImage(FakeImagePipeline.Image(1, 2, 2), "Represent the given image with the following question:", "What is it?"),
        Text(12),
        new MultimodalInput { Images = [FakeImagePipeline.Image(1, 2, 4), FakeImagePipeline.Image(1, 4, 4)], Instruction = "Compare." },
        MultimodalInput.FromText("A cat and a dog", role: EmbeddingRole.Target),
    ];

    private static async Task<float[]> AloneAsync(MultimodalInput input)
    {
        var embedder = new Vlm2VecEmbedder(new FakeEncoder(FacadeData.WithFakeImages()));
        return await embedder.EmbedAsync(input);
    }

    [Fact]
    public async Task Results_come_back_in_input_order_whatever_the_batching()
    {
        var inputs = MixedInputs();
        var encoder = new FakeEncoder(FacadeData.WithFakeImages());
        var embedder = new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = 3 });
        var vectors = await embedder.EmbedAsync(inputs);

        Assert.Equal(inputs.Count, vectors.Length);
        for (var i = 0; i < inputs.Count; i++)
        {
            Assert.Equal(await AloneAsync(inputs[i]), vectors[i]);
            Assert.Equal(1.0, Math.Sqrt(vectors[i].Sum(v => (double)v * v)), 5);
        }

        Assert.Equal(3, encoder.Batches.Count);
        Assert.All(encoder.Batches, b => Assert.True(b.BatchSize <= 3));
        Assert.Equal(inputs.Count, encoder.Batches.Sum(b => b.BatchSize));
    }

    [Fact]
    public async Task Batches_are_length_sorted_to_cut_padding()
    {
        var inputs = Enumerable.Range(0, 16).Select(i => Text(i % 2 == 0 ? 2 : 40)).ToList();
        var sorted = new FakeEncoder(FacadeData.WithFakeImages());
        await new Vlm2VecEmbedder(sorted, new EmbedderOptions { MaxBatchSize = 4 }).EmbedAsync(inputs);
        var unsorted = new FakeEncoder(FacadeData.WithFakeImages());
        await new Vlm2VecEmbedder(unsorted, new EmbedderOptions { MaxBatchSize = 4, SortByLength = false }).EmbedAsync(inputs);

        static long Padding(IEnumerable<Vlm2Vec.Preprocessing.CollatedBatch> batches) =>
            batches.Sum(b => (long)b.BatchSize * b.SequenceLength - b.RealTokenCount);

        Assert.Equal(0, Padding(sorted.Batches));
        Assert.True(Padding(unsorted.Batches) > 0);
        var lengths = sorted.Batches.Select(b => b.SequenceLength).ToList();
        Assert.Equal(lengths.OrderByDescending(l => l), lengths);
    }

    [Fact]
    public async Task Token_and_patch_budgets_bound_each_batch()
    {
        var inputs = MixedInputs();
        var encoder = new FakeEncoder(FacadeData.WithFakeImages());
        await new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchTokens = 64, MaxBatchPatches = 30 }).EmbedAsync(inputs);
        foreach (var batch in encoder.Batches)
        {
            Assert.True(batch.BatchSize == 1 || batch.BatchSize * batch.SequenceLength <= 64, $"{batch.BatchSize} x {batch.SequenceLength}");
            Assert.True(batch.BatchSize == 1 || batch.TotalPatches <= 30, $"{batch.TotalPatches} patches");
        }

        Assert.Equal(inputs.Count, encoder.Batches.Sum(b => b.BatchSize));

        // An input over a budget on its own still runs, alone.
        var huge = new FakeEncoder(FacadeData.WithFakeImages());
        var vectors = await new Vlm2VecEmbedder(huge, new EmbedderOptions { MaxBatchPatches = 4 }).EmbedAsync([MultimodalInput.FromImage(FakeImagePipeline.Image(1, 4, 6)), Text(2)]);
        Assert.Equal(2, vectors.Length);
        Assert.Equal(2, huge.Batches.Count);
    }

    [Fact]
    public async Task One_bad_item_fails_alone_and_the_rest_embed()
    {
        var preprocessor = FacadeData.WithFakeImages(options: new PreprocessorOptions { MaxTokens = 20, Truncation = TruncationPolicy.Refuse });
        var encoder = new FakeEncoder(preprocessor);
        List<MultimodalInput> inputs =
        [
            Text(2),
            new MultimodalInput(),                                   // nothing to embed
            MultimodalInput.FromImage(FakeImagePipeline.Broken),      // undecodable
            Text(50),                                                 // too long, refused
            MultimodalInput.FromImage(FakeImagePipeline.Image(1, 2, 2), "Represent the given image."),
            null!,
        ];
        var results = await new Vlm2VecEmbedder(encoder).EmbedEachAsync(inputs);

        Assert.Equal(6, results.Count);
        Assert.Equal([0, 1, 2, 3, 4, 5], results.Select(r => r.Index));
        Assert.Equal([true, false, false, false, true, false], results.Select(r => r.Succeeded));
        Assert.IsType<InvalidInputException>(results[1].Error!.InnerException);
        Assert.IsType<ImageDecodeException>(results[2].Error!.InnerException);
        Assert.IsType<InputTooLongException>(results[3].Error!.InnerException);
        Assert.IsType<InvalidInputException>(results[5].Error!.InnerException);
        Assert.Equal(3, results[3].Error!.ItemIndex);
        Assert.Contains("Item 2", results[2].Error!.Message, StringComparison.Ordinal);
        Assert.Null(results[1].Embedding);

        var embedder = new Vlm2VecEmbedder(new FakeEncoder(preprocessor));
        Assert.Equal(await embedder.EmbedAsync(inputs[0]), results[0].Embedding);
        Assert.Equal(await embedder.EmbedAsync(inputs[4]), results[4].Embedding);
    }

    [Fact]
    public async Task EmbedAsync_throws_the_failing_item()
    {
        var embedder = new Vlm2VecEmbedder(new FakeEncoder(FacadeData.WithFakeImages()));
        var error = await Assert.ThrowsAsync<BatchItemException>(() => embedder.EmbedAsync([Text(2), Text(3), MultimodalInput.FromImage(FakeImagePipeline.Broken)]));
        Assert.Equal(2, error.ItemIndex);
        Assert.IsType<ImageDecodeException>(error.InnerException);
    }

    [Fact]
    public async Task A_batch_failing_in_the_encoder_is_retried_row_by_row()
    {
        var preprocessor = FacadeData.WithFakeImages();
        var poison = preprocessor.Tokenizer.Encode("Find: poison")[^1];
        var logger = new CapturingLogger();
        var encoder = new FakeEncoder(preprocessor) { PoisonTokenId = poison };
        List<MultimodalInput> inputs = [Text(2), MultimodalInput.FromText("poison", "Find:"), Text(4)];
        var results = await new Vlm2VecEmbedder(encoder, logger: logger).EmbedEachAsync(inputs);

        Assert.Equal([true, false, true], results.Select(r => r.Succeeded));
        Assert.IsType<InvalidOperationException>(results[1].Error!.InnerException);
        Assert.Equal(await AloneAsync(inputs[0]), results[0].Embedding);
        Assert.Contains(logger.Entries, e => e.Message.Contains("retrying", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_encoder_breaking_its_contract_fails_the_items_not_the_process()
    {
        var encoder = new FakeEncoder(FacadeData.WithFakeImages()) { DropLastVector = true };
        var results = await new Vlm2VecEmbedder(encoder).EmbedEachAsync([Text(2), Text(3)]);
        Assert.All(results, r => Assert.IsType<InvalidOperationException>(r.Error!.InnerException));
    }

    [Fact]
    public async Task Cancellation_is_honoured_between_batches()
    {
        using var cancellation = new CancellationTokenSource();
        var encoder = new FakeEncoder(FacadeData.WithFakeImages())
        {
            BeforeBatch = seen =>
            {
                if (seen == 1)
                {
                    cancellation.Cancel();
                }
            },
        };
        var inputs = Enumerable.Range(0, 8).Select(i => Text(i + 1)).ToList();
        var embedder = new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = 2 });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => embedder.EmbedAsync(inputs, cancellation.Token));
        Assert.Single(encoder.Batches);

        using var already = new CancellationTokenSource();
        await already.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => embedder.EmbedEachAsync(inputs, already.Token));
    }

    [Fact]
    public async Task Preprocessing_runs_in_parallel_within_the_bound()
    {
        // Each image waits (up to 10 s) until another one is being processed at the same time: this completes quickly
        // only if preprocessing really runs two at a time.
        var images = new FakeImagePipeline { Rendezvous = 2 };
        var encoder = new FakeEncoder(FacadeData.WithFakeImages(images));
        var inputs = Enumerable.Range(0, 8).Select(_ => MultimodalInput.FromImage(FakeImagePipeline.Image(1, 2, 2))).ToList();
        await new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxPreprocessingParallelism = 2 }).EmbedAsync(inputs);
        Assert.Equal(8, images.Calls);
        Assert.Equal(0, images.MissedRendezvous);
        Assert.Equal(2, images.MaxConcurrent);

        var serial = new FakeImagePipeline { DelayMilliseconds = 5 };
        await new Vlm2VecEmbedder(new FakeEncoder(FacadeData.WithFakeImages(serial)), new EmbedderOptions { MaxPreprocessingParallelism = 1 }).EmbedAsync(inputs);
        Assert.Equal(1, serial.MaxConcurrent);
    }

    [Fact]
    public async Task Windows_keep_order_across_many_inputs()
    {
        var inputs = Enumerable.Range(0, 23).Select(i => Text(1 + (i * 7 % 11))).ToList();
        var encoder = new FakeEncoder(FacadeData.WithFakeImages());
        var vectors = await new Vlm2VecEmbedder(encoder, new EmbedderOptions { SortWindow = 5, MaxBatchSize = 3 }).EmbedAsync(inputs);
        for (var i = 0; i < inputs.Count; i++)
        {
            Assert.Equal(await AloneAsync(inputs[i]), vectors[i]);
        }

        Assert.True(encoder.Batches.Count >= 9);
    }

    [Fact]
    public async Task Empty_list_and_bad_options()
    {
        var encoder = new FakeEncoder(FacadeData.WithFakeImages());
        Assert.Empty(await new Vlm2VecEmbedder(encoder).EmbedAsync([]));
        Assert.Empty(encoder.Batches);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Vlm2VecEmbedder(encoder, new EmbedderOptions { SortWindow = 0 }));
        Assert.Same(encoder.Preprocessor, new Vlm2VecEmbedder(encoder).Preprocessor);
    }
}
