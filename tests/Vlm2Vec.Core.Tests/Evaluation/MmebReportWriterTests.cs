using System.Text.Json;
using System.Text.RegularExpressions;
using SixLabors.ImageSharp;
using Vlm2Vec.Evaluation;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Evaluation;

public sealed partial class MmebReportWriterTests
{
    private static async Task<MmebEvaluationResult> EvaluateDerivedAsync(bool ndcg = true)
    {
        var datasets = new List<MmebEvalDataset>
        {
            await EvalTestData.LoadAsync("coco-mini_i2t", limit: 24),
            await EvalTestData.LoadAsync("caltech101-test10_cls", limit: 40),
            await EvalTestData.LoadAsync("pope-coco-mini_vqa"),
        };
        return await new MmebEvaluator(new HashingEncoder(EvalTestData.Preprocessor()), new MmebEvaluationOptions { ComputeNdcg = ndcg, RowLimit = 40 }).EvaluateAsync(datasets);
    }

    private static MmebDatasetScore CatalogScore(string name, double hit) => new()
    {
        Name = MmebCatalog.Get(name).Name,
        Catalog = MmebCatalog.Get(name),
        MetaTask = MmebCatalog.Get(name).MetaTask,
        IsOutOfDistribution = MmebCatalog.Get(name).IsOutOfDistribution,
        Rows = 1000,
        ScoredRows = 1000,
        HitAt1 = hit,
        RecallAt5 = hit,
        Mrr = hit,
    };

    private static MmebEvaluationResult CatalogResult(string modelId)
    {
        List<MmebDatasetScore> datasets = [CatalogScore("ImageNet-1K", 70), CatalogScore("Place365", 30), CatalogScore("MSCOCO_i2t", 60)];
        return new MmebEvaluationResult
        {
            Model = new Vlm2VecModelInfo { ModelId = modelId, Dimension = 1536 },
            Settings = new MmebEvaluationSettings { MaxBatchSize = 16 },
            Datasets = datasets,
            Aggregates = MmebAggregation.Compute(datasets),
        };
    }

    [Fact]
    public async Task Scores_json_holds_every_dataset_the_aggregates_the_model_and_the_settings()
    {
        var result = await EvaluateDerivedAsync();
        using var folder = new TempFolder("vlm2vec-report");

        var files = await MmebReportWriter.WriteAsync(result, folder.Path);

        Assert.Equal(folder.Combine("scores.json"), files.ScoresJson);
        using var json = JsonDocument.Parse(File.ReadAllBytes(files.ScoresJson));
        var root = json.RootElement;
        Assert.Equal("vlm2vec-mmeb-scores/1", root.GetProperty("format").GetString());
        Assert.Equal("percent", root.GetProperty("unit").GetString());
        Assert.Equal("test/hashing", root.GetProperty("model").GetProperty("id").GetString());
        Assert.Equal(16, root.GetProperty("model").GetProperty("dimension").GetInt32());
        Assert.True(root.GetProperty("settings").GetProperty("ndcg").GetBoolean());
        Assert.Equal(40, root.GetProperty("settings").GetProperty("rowLimit").GetInt32());
        Assert.Equal("<|image_pad|>", root.GetProperty("settings").GetProperty("imagePlaceholder").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("comparison").ValueKind);
        Assert.True(root.GetProperty("durationSeconds").GetDouble() > 0);

        var datasets = root.GetProperty("datasets").EnumerateArray().ToList();
        Assert.Equal(["coco-mini_i2t", "caltech101-test10_cls", "pope-coco-mini_vqa"], datasets.Select(d => d.GetProperty("name").GetString()));
        for (var i = 0; i < datasets.Count; i++)
        {
            var expected = result.Datasets[i];
            Assert.Equal(expected.ScoredRows, datasets[i].GetProperty("n").GetInt32());
            Assert.Equal(expected.HitAt1, datasets[i].GetProperty("hit@1").GetDouble(), 10);
            Assert.Equal(expected.NdcgAt5!.Value, datasets[i].GetProperty("ndcg@5").GetDouble(), 10);
            Assert.Equal(expected.UniqueCandidates, datasets[i].GetProperty("uniqueCandidates").GetInt32());
            Assert.Equal(JsonValueKind.Null, datasets[i].GetProperty("distribution").ValueKind);
        }

        Assert.Equal([24, 40, 54], datasets.Select(d => d.GetProperty("n").GetInt32()));
        Assert.Equal(["RET", "CLS", "VQA"], datasets.Select(d => d.GetProperty("metaTask").GetString()));
        var overall = root.GetProperty("aggregates").GetProperty("hit@1").GetProperty("Overall");
        Assert.Equal(result.Datasets.Average(d => d.HitAt1), overall.GetProperty("mean").GetDouble(), 10);
        Assert.Equal(3, overall.GetProperty("datasets").GetInt32());
        Assert.True(root.GetProperty("aggregates").TryGetProperty("ndcg@5", out _));
        Assert.False(root.GetProperty("aggregates").GetProperty("hit@1").TryGetProperty("IND", out _)); // none of these is an MMEB dataset
    }

    [Fact]
    public async Task The_html_report_has_a_bar_per_dataset_and_example_thumbnails_that_exist()
    {
        var result = await EvaluateDerivedAsync();
        using var folder = new TempFolder("vlm2vec-report");

        var files = await MmebReportWriter.WriteAsync(result, folder.Path, new MmebReportOptions { ThumbnailSize = 96 });
        var html = File.ReadAllText(files.HtmlReport);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        var bars = BarPattern().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(result.Datasets.Select(d => d.Name), bars);
        Assert.Equal(result.Datasets.Count, SectionPattern().Matches(html).Count);

        var images = ThumbPattern().Matches(html).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(images);
        Assert.Equal(files.Thumbnails.Count, images.Count);
        foreach (var image in images)
        {
            var path = Path.Combine(folder.Path, image);
            Assert.True(File.Exists(path), path);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF }, bytes[..3]); // JPEG
            var info = Image.Identify(bytes);
            Assert.True(Math.Max(info.Width, info.Height) <= 96, $"{image} is {info.Width}×{info.Height}");
        }

        // The strings as the model saw them: MMEB's placeholder replaced, HTML-escaped, with visible line breaks.
        Assert.Contains("&lt;|image_pad|&gt;\\n", html, StringComparison.Ordinal);
        Assert.DoesNotContain("image_1", html, StringComparison.Ordinal);
        var examples = result.Datasets.Sum(d => d.Examples.Count);
        Assert.Equal(examples, Regex.Matches(html, "<div class=\"example (hit|miss)\">").Count);
        Assert.Equal(result.Datasets.Sum(d => d.Examples.Count(e => !e.Hit)), Regex.Matches(html, "<div class=\"example miss\">").Count);
        Assert.Contains(result.Datasets, d => d.Examples.Any(e => e.Hit) && d.Examples.Any(e => !e.Hit));
    }

    [Fact]
    public async Task The_markdown_report_has_a_row_per_dataset_and_the_aggregates()
    {
        var result = await EvaluateDerivedAsync(ndcg: false);
        var markdown = MmebReportWriter.ToMarkdown(result);

        foreach (var dataset in result.Datasets)
        {
            Assert.Contains($"| {dataset.Name} | {ReportModel.MetaTaskLabel(dataset)} | — | {dataset.ScoredRows} | {ReportModel.Percent(dataset.HitAt1)} |", markdown, StringComparison.Ordinal);
        }

        Assert.Contains($"| Overall | {ReportModel.Percent(result.Aggregates.Overall!.Value.Mean)} | 3 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| RET |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("NDCG@5 |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("published", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vlm2vec_model_id_brings_the_published_comparison_column()
    {
        var result = CatalogResult("TIGER-Lab/VLM2Vec-Qwen2VL-2B");

        using var json = JsonDocument.Parse(MmebReportWriter.ToJson(result));
        var root = json.RootElement;
        Assert.Equal(MmebPublishedScores.Qwen2Vl2B, root.GetProperty("comparison").GetString());
        var datasets = root.GetProperty("datasets").EnumerateArray().ToList();
        Assert.Equal([77.5, 35.0, 68.3], datasets.Select(d => d.GetProperty("published@1").GetDouble()));
        Assert.Equal(["IND", "OOD", "IND"], datasets.Select(d => d.GetProperty("distribution").GetString()));
        var published = root.GetProperty("aggregates").GetProperty("published@1");
        Assert.Equal((77.5 + 35.0 + 68.3) / 3, published.GetProperty("Overall").GetProperty("mean").GetDouble(), 10);
        Assert.Equal(35.0, published.GetProperty("OOD").GetProperty("mean").GetDouble(), 10);
        Assert.Equal(50.0, root.GetProperty("aggregates").GetProperty("hit@1").GetProperty("CLS").GetProperty("mean").GetDouble(), 10);

        var markdown = MmebReportWriter.ToMarkdown(result);
        Assert.Contains("| ImageNet-1K | CLS | IND | 1000 | 70.0 | 70.0 | 70.0 | 77.5 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| IND | 65.0 | 2 | 72.9 (2) |", markdown, StringComparison.Ordinal);

        var none = MmebReportWriter.ToJson(result, new MmebReportOptions { NoComparison = true });
        Assert.DoesNotContain("published@1", none, StringComparison.Ordinal);
        var other = MmebReportWriter.ToJson(result, new MmebReportOptions { CompareWith = MmebPublishedScores.V2 });
        Assert.Contains("\"published@1\": 80.8", other, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MmebReportWriter.ToJson(result, new MmebReportOptions { CompareWith = "CLIP" }));
    }

    [Fact]
    public async Task The_html_bars_carry_the_published_marker_and_missing_images_get_a_placeholder()
    {
        var result = CatalogResult("VLM2Vec-Qwen2VL-7B") with
        {
            Datasets =
            [
                CatalogScore("ImageNet-1K", 70) with
                {
                    Examples =
                    [
                        new MmebRowExample
                        {
                            LineNumber = 5, Hit = false, PositiveRank = 2, CandidateCount = 1000,
                            Query = new MmebExampleInput("<|image_pad|>\nRepresent the given image for classification\n", "gone.jpg", "/nonexistent/gone.jpg"),
                            Positive = new MmebExampleInput("tench", null, null), PositiveScore = 0.3f,
                            PredictedIndex = 7, Predicted = new MmebExampleInput("goldfish <b>", null, null), PredictedScore = 0.4f,
                        },
                    ],
                },
            ],
        };
        using var folder = new TempFolder("vlm2vec-report");

        var files = await MmebReportWriter.WriteAsync(result, folder.Path);
        var html = File.ReadAllText(files.HtmlReport);

        Assert.Contains("<line class=\"published\"", html, StringComparison.Ordinal);
        Assert.Contains("published VLM2Vec-Qwen2VL-7B: 80.2", html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"noimg\">gone.jpg</div>", html, StringComparison.Ordinal);
        Assert.Contains("goldfish &lt;b&gt;", html, StringComparison.Ordinal);
        Assert.Empty(files.Thumbnails);
        Assert.False(Directory.Exists(folder.Combine("thumbnails")));
    }

    [GeneratedRegex("<g class=\"bar\" data-dataset=\"([^\"]+)\"")]
    private static partial Regex BarPattern();

    [GeneratedRegex("<section class=\"dataset\"")]
    private static partial Regex SectionPattern();

    [GeneratedRegex("<img class=\"thumb\" src=\"([^\"]+)\"")]
    private static partial Regex ThumbPattern();
}
