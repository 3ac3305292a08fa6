using Microsoft.Extensions.Logging;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>Unusable rows are reported with their line and skipped (counted, logged) or fail the run; never silent.</summary>
[Collection(TrainingCollection.Name)]
public sealed class BadRowTests : TorchTestBase, IClassFixture<BaseModelFixture>
{
    private readonly BaseModelFixture _base;

    public BadRowTests(BaseModelFixture fixture) => _base = fixture;

    private static string WriteData(TempFolder temp)
    {
        var image = SharedData.Path("classification", "caltech101-test10", "images", "accordion", "image_0001.jpg");
        File.Copy(image, temp.Combine("good.jpg"));
        File.WriteAllText(temp.Combine("broken.png"), "this is not an image");
        var lines = new[]
        {
            /* 1 */ """{"qry": "<|image_1|>\nRepresent the given image for classification\n", "qry_image_path": "good.jpg", "pos_text": "accordion"}""",
            /* 2 */ """{"qry": "unterminated""",
            /* 3 */ "",
            /* 4 */ """{"qry": "<|image_1|>\nRepresent the given image\n", "qry_image_path": "missing.jpg", "pos_text": "x"}""",
            /* 5 */ """{"qry": "", "pos_text": "nothing to embed"}""",
            /* 6 */ """{"qry": "a red accordion", "pos_text": "accordion", "neg_text": ["piano", "violin"], "dataset": "texts"}""",
            /* 7 */ """{"qry": "<|image_1|>\nRepresent the given image\n", "qry_image_path": "broken.png", "pos_text": "broken"}""",
        };
        var path = temp.Combine("train.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void The_reader_skips_and_names_malformed_empty_and_missing_image_rows_by_line()
    {
        using var temp = new TempFolder("bad-rows");
        var path = WriteData(temp);
        var logger = new ListLogger();

        var read = MmebTrainingData.ReadJsonl(path, logger: logger);

        Assert.Equal(["train.jsonl:1", "train.jsonl:6", "train.jsonl:7"], read.Examples.Select(e => e.Source));
        Assert.Equal(4, read.Skipped.Count);
        Assert.Contains("train.jsonl:2", read.Skipped[0], StringComparison.Ordinal);
        Assert.Contains("not valid JSON", read.Skipped[0], StringComparison.Ordinal);
        Assert.Contains("train.jsonl:3: the line is empty", read.Skipped[1], StringComparison.Ordinal);
        Assert.Contains("train.jsonl:4", read.Skipped[2], StringComparison.Ordinal);
        Assert.Contains("missing.jpg", read.Skipped[2], StringComparison.Ordinal);
        Assert.Contains("train.jsonl:5: the query is empty", read.Skipped[3], StringComparison.Ordinal);
        Assert.Equal(5, logger.Entries.Count(e => e.Level == LogLevel.Warning)); // one per row, then the summary

        var texts = read.Examples[1];
        Assert.Equal("texts", texts.Dataset);
        Assert.Equal(["piano", "violin"], texts.Negatives.Select(n => n.Prompt));
        Assert.Equal("train", read.Examples[0].Dataset);
        Assert.Single(read.Examples[0].Query.Images);
    }

    [Fact]
    public void Under_the_fail_policy_the_reader_stops_at_the_first_bad_line()
    {
        using var temp = new TempFolder("bad-rows-fail");
        var path = WriteData(temp);
        var error = Assert.Throws<TrainingDataException>(() => MmebTrainingData.ReadJsonl(path, new MmebJsonlReadOptions { BadRows = BadRowPolicy.Fail }));
        Assert.Equal("train.jsonl:2", error.RowSource);
    }

    [Fact]
    public void An_undecodable_image_found_during_training_is_skipped_counted_and_logged_once()
    {
        using var temp = new TempFolder("bad-rows-train");
        var read = MmebTrainingData.ReadJsonl(WriteData(temp));
        var logger = new ListLogger();
        var options = TrainingFixture.Options(temp.Combine("run"), baseModel: _base.Folder) with { MaxSteps = 4, BatchSize = 3 };
        using var trainer = ContrastiveTrainer.Create(options, logger);

        var result = trainer.Train(read.Examples);

        Assert.True(result.Completed);
        Assert.Equal(1, result.SkippedRows);
        var warnings = logger.Entries.Where(e => e.Level == LogLevel.Warning).ToList();
        Assert.Single(warnings);
        Assert.Contains("train.jsonl:7", warnings[0].Message, StringComparison.Ordinal);

        // Every step after the first sees the row as known-bad: 2 queries per step.
        var steps = File.ReadAllLines(temp.Combine("run", "training_log.jsonl"));
        Assert.All(steps, line => Assert.Contains("\"queries\":2", line, StringComparison.Ordinal));
        Assert.Contains("\"bad_rows\":1", steps[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Under_the_fail_policy_an_undecodable_image_stops_the_run_naming_its_line()
    {
        using var temp = new TempFolder("bad-rows-train-fail");
        var read = MmebTrainingData.ReadJsonl(WriteData(temp));
        var options = TrainingFixture.Options(temp.Combine("run"), baseModel: _base.Folder) with { MaxSteps = 2, BatchSize = 3, BadRows = BadRowPolicy.Fail };
        using var trainer = ContrastiveTrainer.Create(options);

        var error = Assert.Throws<TrainingDataException>(() => trainer.Train(read.Examples));

        Assert.Equal("train.jsonl:7", error.RowSource);
        Assert.IsType<ImageDecodeException>(error.InnerException);
    }

    [Fact]
    public void Null_rows_from_code_are_reported_by_index()
    {
        using var temp = new TempFolder("bad-rows-code");
        var rows = TrainingFixture.TextPairs(4);
        rows.Insert(2, null!);
        var options = TrainingFixture.Options(temp.Combine("run"), baseModel: _base.Folder) with { MaxSteps = 1, BadRows = BadRowPolicy.Fail };
        using var trainer = ContrastiveTrainer.Create(options);
        var error = Assert.Throws<TrainingDataException>(() => trainer.Train(rows));
        Assert.Equal("example 2", error.RowSource);
    }
}
