using Vlm2Vec.Evaluation;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Evaluation;

public sealed class MmebEvaluatorTests
{
    private static MmebEvalDataset InMemory(string name, params MmebEvalRow[] rows) => new()
    {
        Name = name,
        Rows = rows,
        ImageRoot = AppContext.BaseDirectory,
        MetaTask = DatasetClassifier.MetaTaskFromSuffix(name),
    };

    private static MmebEvalRow Row(string query, params string[] candidates) => new()
    {
        QueryText = query,
        TargetTexts = candidates,
        TargetImagePaths = candidates.Select(_ => string.Empty).ToArray(),
    };

    [Fact]
    public async Task An_oracle_model_scores_100_on_every_derived_set()
    {
        var datasets = new List<MmebEvalDataset>
        {
            await EvalTestData.LoadAsync("coco-mini_i2t"),
            await EvalTestData.LoadAsync("coco-mini_t2i"),
            await EvalTestData.LoadAsync("caltech101-test10_cls", limit: 200),
            await EvalTestData.LoadAsync("pope-coco-mini_vqa"),
        };
        var preprocessor = EvalTestData.Preprocessor();
        var oracle = new OracleEncoder(preprocessor, datasets);

        var result = await new MmebEvaluator(oracle, new MmebEvaluationOptions { ComputeNdcg = true }).EvaluateAsync(datasets);

        Assert.All(result.Datasets, d =>
        {
            Assert.Equal(100.0, d.HitAt1);
            Assert.Equal(100.0, d.NdcgAt5);
            Assert.Equal(100.0, d.Mrr);
            Assert.Equal(d.Rows, d.ScoredRows);
        });
        Assert.Equal(new MmebAggregate(100, 4), result.Aggregates.Overall);
        Assert.Equal(new MmebAggregate(100, 2), result.Aggregates.MetaTasks[MmebMetaTask.Retrieval]);
        Assert.Null(result.Aggregates.InDistribution);
        Assert.Equal(100.0, result.NdcgAggregates!.Overall!.Value.Mean);
    }

    [Fact]
    public async Task Each_unique_query_and_candidate_is_embedded_once()
    {
        var dataset = await EvalTestData.LoadAsync("caltech101-test10_cls", limit: 120);
        var images = new FileDigestImagePipeline();
        var encoder = new HashingEncoder(EvalTestData.Preprocessor(images));

        var score = Assert.Single((await new MmebEvaluator(encoder).EvaluateAsync([dataset])).Datasets);

        Assert.Equal(120, score.UniqueQueries);
        Assert.Equal(101, score.UniqueCandidates);
        Assert.Equal(120L * 101, score.CandidateSlots);
        Assert.Equal(120 + 101, encoder.RowsEncoded); // not 120 × 102
        Assert.Equal(120 + 101, score.EmbeddedInputs);
        Assert.Equal(120, images.Calls); // every query image read once, the text candidates none
        Assert.Equal(encoder.Encoded.Count, encoder.Encoded.Distinct().Count());
    }

    [Fact]
    public async Task Hand_computed_ranks_give_hand_computed_metrics()
    {
        // 2-D vectors at known angles; each row's positive is candidate 0.
        static float[] At(double degrees) => [(float)Math.Cos(degrees * Math.PI / 180), (float)Math.Sin(degrees * Math.PI / 180)];
        var vectors = new Dictionary<string, float[]>
        {
            ["q"] = At(0),
            ["p10"] = At(10), ["p20"] = At(20), ["p30"] = At(30), ["p40"] = At(40), ["p50"] = At(50), ["p60"] = At(60), ["p70"] = At(70),
        };
        var dataset = InMemory(
            "hand_ret",
            Row("q", "p10", "p20", "p30"), // rank 1
            Row("q", "p20", "p10", "p30"), // rank 2
            Row("q", "p30", "p20", "p10", "p40"), // rank 3
            Row("q", "p70", "p10", "p20", "p30", "p40", "p50", "p60")); // rank 7: outside the top 5
        var encoder = new ScriptedEncoder(EvalTestData.Preprocessor(), vectors);

        var result = await new MmebEvaluator(encoder, new MmebEvaluationOptions { ComputeNdcg = true }).EvaluateAsync([dataset]);
        var score = Assert.Single(result.Datasets);

        Assert.Equal(25.0, score.HitAt1, 10);
        Assert.Equal(75.0, score.RecallAt5, 10);
        Assert.Equal(100.0 * (1 + 1 / 2.0 + 1 / 3.0 + 1 / 7.0) / 4, score.Mrr, 10);
        Assert.Equal(100.0 * (1 + 1 / Math.Log2(3) + 1 / Math.Log2(4) + 0) / 4, score.NdcgAt5!.Value, 5);
        Assert.Equal(1 + 7, score.UniqueQueries + score.UniqueCandidates);

        var miss = score.Examples.First(e => !e.Hit && e.PositiveRank == 7);
        Assert.Equal(1, miss.PredictedIndex); // p10 beats p70
        Assert.Equal("p10", miss.Predicted.Prompt);
        Assert.Equal(Math.Cos(10 * Math.PI / 180), miss.PredictedScore, 5);
        Assert.Equal(Math.Cos(70 * Math.PI / 180), miss.PositiveScore, 5);
    }

    [Fact]
    public async Task When_every_score_ties_the_positive_wins_as_in_v1()
    {
        var vectors = new Dictionary<string, float[]> { ["q"] = [1, 0], ["a"] = [0, 1], ["b"] = [0, 1], ["c"] = [0, 1] };
        var dataset = InMemory("ties_cls", Row("q", "a", "b", "c"), Row("q", "c", "a"), Row("q", "b", "b"));

        var score = Assert.Single((await new MmebEvaluator(new ScriptedEncoder(EvalTestData.Preprocessor(), vectors)).EvaluateAsync([dataset])).Datasets);

        Assert.Equal(100.0, score.HitAt1);
        Assert.Equal(3, score.UniqueCandidates); // "b" twice in the last row is one input
    }

    [Fact]
    public async Task Mmeb_placeholders_become_the_backbones_and_text_only_quirk_placeholders_stay_tokens()
    {
        var vectors = new Dictionary<string, float[]>
        {
            ["<|image_1|>\nFind a Wikipedia image that answers this question: Who?\n"] = [1, 0],
            ["Answer A"] = [0.9f, 0.1f],
            ["Answer B"] = [0.1f, 0.9f],
        };
        var dataset = InMemory("webqa_quirk_ret", Row(vectors.Keys.First(), "Answer A", "Answer B"));
        var encoder = new ScriptedEncoder(EvalTestData.Preprocessor(), vectors);

        var score = Assert.Single((await new MmebEvaluator(encoder).EvaluateAsync([dataset])).Datasets);

        Assert.Equal(100.0, score.HitAt1);
        var query = score.Examples.Single().Query.Prompt;
        Assert.Equal("<|image_pad|>\nFind a Wikipedia image that answers this question: Who?\n", query);
        Assert.Contains(EvalTestData.Preprocessor().Config.ImageTokenId.ToString(System.Globalization.CultureInfo.InvariantCulture), encoder.Encoded.First(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_persistent_cache_makes_a_second_run_embed_nothing_and_score_the_same()
    {
        using var cacheFolder = new TempFolder("vlm2vec-cache");
        var datasets = new List<MmebEvalDataset> { await EvalTestData.LoadAsync("pope-coco-mini_vqa"), await EvalTestData.LoadAsync("coco-mini_i2t", limit: 30) };
        var options = new MmebEvaluationOptions { EmbeddingCacheFolder = cacheFolder.Path, ComputeNdcg = true };

        var first = new HashingEncoder(EvalTestData.Preprocessor());
        var firstResult = await new MmebEvaluator(first, options).EvaluateAsync(datasets);
        var second = new HashingEncoder(EvalTestData.Preprocessor());
        var secondResult = await new MmebEvaluator(second, options).EvaluateAsync(datasets);

        var expectedInputs = firstResult.Datasets.Sum(d => d.UniqueQueries + d.UniqueCandidates);
        Assert.Equal(expectedInputs, first.RowsEncoded);
        Assert.Equal(0, second.RowsEncoded);
        Assert.Equal(expectedInputs, secondResult.Datasets.Sum(d => d.CachedInputs));
        Assert.Equal(firstResult.Datasets.Select(d => (d.HitAt1, d.Mrr, d.NdcgAt5)), secondResult.Datasets.Select(d => (d.HitAt1, d.Mrr, d.NdcgAt5)));
        Assert.Single(Directory.GetFiles(cacheFolder.Path, "*.bin"));

        // Another model id is another cache.
        var other = new HashingEncoder(EvalTestData.Preprocessor(), modelId: "test/other");
        await new MmebEvaluator(other, options).EvaluateAsync(datasets);
        Assert.Equal(expectedInputs, other.RowsEncoded);
        Assert.Equal(2, Directory.GetFiles(cacheFolder.Path, "*.bin").Length);
    }

    [Fact]
    public async Task A_cache_file_cut_short_keeps_its_whole_records()
    {
        using var cacheFolder = new TempFolder("vlm2vec-cache");
        var dataset = await EvalTestData.LoadAsync("pope-coco-mini_vqa");
        var options = new MmebEvaluationOptions { EmbeddingCacheFolder = cacheFolder.Path };
        await new MmebEvaluator(new HashingEncoder(EvalTestData.Preprocessor()), options).EvaluateAsync([dataset]);
        var file = Directory.GetFiles(cacheFolder.Path, "*.bin").Single();
        var recordSize = 32 + 16 * sizeof(float);
        var records = (new FileInfo(file).Length - 16) / recordSize;
        using (var stream = File.OpenWrite(file))
        {
            stream.SetLength(stream.Length - recordSize - 7); // the last record lost, the one before it torn
        }

        var rerun = new HashingEncoder(EvalTestData.Preprocessor());
        var score = Assert.Single((await new MmebEvaluator(rerun, options).EvaluateAsync([dataset])).Datasets);

        Assert.Equal(2, rerun.RowsEncoded);
        Assert.Equal(records - 2, score.CachedInputs);
        Assert.Equal(16 + records * recordSize, new FileInfo(file).Length); // healed
    }

    [Fact]
    public async Task An_input_that_cannot_be_embedded_fails_naming_its_line_and_field()
    {
        using var folder = new TempFolder("vlm2vec-eval");
        File.WriteAllBytes(folder.Combine("a.png"), [1]);
        var dataset = new MmebEvalDataset
        {
            Name = "broken_ret",
            ImageRoot = folder.Path,
            Rows =
            [
                new MmebEvalRow { QueryText = "q1", TargetTexts = ["<|image_1|>", "x"], TargetImagePaths = ["a.png", ""], LineNumber = 1, SourcePath = folder.Combine("broken_ret.jsonl") },
                new MmebEvalRow { QueryText = "q2", TargetTexts = ["y", "<|image_1|>\nRepresent it.\n"], TargetImagePaths = ["", "gone.png"], LineNumber = 2, SourcePath = folder.Combine("broken_ret.jsonl") },
                new MmebEvalRow { QueryText = "q3", TargetTexts = ["z", "x"], TargetImagePaths = ["", ""], LineNumber = 3, SourcePath = folder.Combine("broken_ret.jsonl") },
            ],
        };

        var error = await Assert.ThrowsAsync<EvaluationDataException>(() => new MmebEvaluator(new HashingEncoder(EvalTestData.Preprocessor())).EvaluateAsync([dataset]));
        Assert.Equal(2, error.LineNumber);
        Assert.Equal("tgt_text[1]", error.Field);
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("gone.png", error.Message, StringComparison.Ordinal);

        var skip = new MmebEvaluationOptions { EmbeddingFailures = InvalidDataHandling.Skip };
        var score = Assert.Single((await new MmebEvaluator(new HashingEncoder(EvalTestData.Preprocessor()), skip).EvaluateAsync([dataset])).Datasets);
        Assert.Equal(3, score.Rows);
        Assert.Equal(2, score.ScoredRows);
        Assert.Equal(1, score.FailedRows);
        Assert.Contains(score.Problems, p => p.Contains("gone.png", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Progress_counts_up_to_every_unique_input_and_ends_with_each_dataset()
    {
        var datasets = new List<MmebEvalDataset> { await EvalTestData.LoadAsync("pope-coco-mini_vqa"), await EvalTestData.LoadAsync("coco-mini_t2i", limit: 10) };
        var reports = new List<MmebEvaluationProgress>();
        var progress = new SynchronousProgress<MmebEvaluationProgress>(reports.Add);

        var result = await new MmebEvaluator(new HashingEncoder(EvalTestData.Preprocessor()), new MmebEvaluationOptions { ChunkSize = 7 }).EvaluateAsync(datasets, progress);

        for (var i = 0; i < datasets.Count; i++)
        {
            var mine = reports.Where(r => r.DatasetIndex == i).ToList();
            Assert.All(mine, r => Assert.Equal(2, r.DatasetCount));
            Assert.Equal(mine.Select(r => r.Completed).Order(), mine.Select(r => r.Completed));
            var done = mine[^1];
            Assert.Equal(MmebEvaluationStage.DatasetCompleted, done.Stage);
            Assert.Equal(done.Total, done.Completed);
            Assert.Same(result.Datasets[i], done.Score);
            Assert.True(mine.Count(r => r.Stage == MmebEvaluationStage.Embedding) > 2); // chunks of 7
        }
    }

    [Fact]
    public async Task Cancellation_stops_the_evaluation()
    {
        using var cancel = new CancellationTokenSource();
        var encoder = new HashingEncoder(EvalTestData.Preprocessor()) { BeforeBatch = () => cancel.Cancel() };
        var dataset = await EvalTestData.LoadAsync("pope-coco-mini_vqa");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new MmebEvaluator(encoder).EvaluateAsync([dataset], cancellationToken: cancel.Token));
    }

    [Fact]
    public async Task Datasets_must_be_given_once()
    {
        var dataset = InMemory("a_cls", Row("q", "a"));
        var evaluator = new MmebEvaluator(new HashingEncoder(EvalTestData.Preprocessor()));
        await Assert.ThrowsAsync<ArgumentException>(() => evaluator.EvaluateAsync([]));
        await Assert.ThrowsAsync<ArgumentException>(() => evaluator.EvaluateAsync([dataset, dataset with { Name = "A_CLS" }]));
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
