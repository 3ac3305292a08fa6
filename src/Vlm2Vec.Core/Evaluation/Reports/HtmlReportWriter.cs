using System.Globalization;
using System.Net;
using System.Text;

namespace Vlm2Vec.Evaluation;

/// <summary>
/// Writes <c>report.html</c>: one self-contained page (inline CSS and SVG, no script, no external resource) with the
/// aggregates, a bar per dataset (hit@1, with the published score as a marker), and per dataset its metrics and example
/// hits and misses: thumbnails (from <c>thumbnails/</c> beside the page) and the strings as the model saw them.
/// </summary>
internal static class HtmlReportWriter
{
    private const int BarAreaWidth = 460;
    private const int LabelWidth = 210;
    private const int RowHeight = 24;

    private const string Style =
        """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#1d2530;padding:0 1rem}
        h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d5dbe3;padding-bottom:.3rem}h3{font-size:1.05rem}
        table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .6rem;border-bottom:1px solid #e3e7ed;text-align:right}td:first-child,th:first-child{text-align:left}
        .meta{color:#56606d;font-size:.9rem}.cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #d5dbe3;border-radius:6px;padding:.5rem .8rem;min-width:6rem}
        .card b{display:block;font-size:1.3rem}.examples{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:.8rem}
        .example{border:1px solid #d5dbe3;border-radius:6px;padding:.6rem;font-size:.85rem}.example.hit{border-left:5px solid #2e8b57}.example.miss{border-left:5px solid #c0392b}
        .badge{font-weight:bold}.hit .badge{color:#2e8b57}.miss .badge{color:#c0392b}
        .side{display:flex;gap:.5rem;margin:.4rem 0;align-items:flex-start}.side img{max-width:110px;max-height:110px;border-radius:3px}
        .noimg{width:110px;min-width:110px;height:40px;background:#f1f3f6;color:#8a94a3;font-size:.75rem;display:flex;align-items:center;justify-content:center;border-radius:3px}
        pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.3rem .4rem;margin:0;border-radius:3px;font-size:.8rem;flex:1}
        .label{color:#56606d;font-size:.75rem;text-transform:uppercase;letter-spacing:.03em}svg text{font-size:12px;font-family:inherit}
        """;

    public static string Write(ReportModel model, ThumbnailWriter? thumbnails)
    {
        var result = model.Result;
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>").AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append("<title>MMEB evaluation: ").Append(Encode(result.Model.ModelId)).AppendLine("</title>");
        html.Append("<style>").Append(Style).AppendLine("</style></head><body>");
        html.Append("<h1>MMEB evaluation: ").Append(Encode(result.Model.ModelId)).AppendLine("</h1>");
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"meta\">{Encode(result.Model.Architecture)} · {Encode(result.Model.Engine)} · {Encode(result.Model.DType)} · dimension {result.Model.Dimension}")
            .Append(CultureInfo.InvariantCulture, $" · started {result.StartedAt:yyyy-MM-dd HH:mm:ss} UTC · took {ReportModel.Seconds(result.Duration)}")
            .Append(CultureInfo.InvariantCulture, $" · batch size {result.Settings.MaxBatchSize} · row limit {(result.Settings.RowLimit?.ToString(CultureInfo.InvariantCulture) ?? "none")}")
            .AppendLine("</p>");
        html.AppendLine("<p class=\"meta\">MMEB V1 protocol: each query is ranked against its own candidate list by cosine; hit@1 with ties going to the lowest index; unweighted means over the datasets present.</p>");

        WriteAggregates(html, model);
        html.AppendLine("<h2>Datasets (hit@1, %)</h2>");
        WriteBars(html, model);
        WriteDatasetTable(html, model);
        foreach (var dataset in result.Datasets)
        {
            WriteDataset(html, model, dataset, thumbnails);
        }

        html.AppendLine("</body></html>");
        return html.ToString();
    }

    private static void WriteAggregates(StringBuilder html, ReportModel model)
    {
        html.AppendLine("<h2>Aggregates (hit@1, %)</h2><div class=\"cards\">");
        foreach (var (label, value) in ReportModel.Rows(model.Result.Aggregates))
        {
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"card aggregate\" data-aggregate=\"{label}\"><span class=\"label\">{label}</span><b>{ReportModel.Percent(value.Mean)}</b>");
            html.Append(CultureInfo.InvariantCulture, $"<span class=\"meta\">{value.DatasetCount} dataset{(value.DatasetCount == 1 ? string.Empty : "s")}");
            if (ReportModel.Find(model.PublishedAggregates, label) is { } published)
            {
                html.Append(CultureInfo.InvariantCulture, $" · published {ReportModel.Percent(published.Mean)}");
            }

            html.AppendLine("</span></div>");
        }

        html.AppendLine("</div>");
    }

    private static void WriteBars(StringBuilder html, ReportModel model)
    {
        var datasets = model.Result.Datasets;
        var width = LabelWidth + BarAreaWidth + 60;
        var height = RowHeight * datasets.Count + 24;
        html.Append(CultureInfo.InvariantCulture, $"<svg class=\"bars\" role=\"img\" aria-label=\"hit@1 per dataset\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">").AppendLine();
        for (var tick = 0; tick <= 100; tick += 25)
        {
            var x = LabelWidth + tick * BarAreaWidth / 100.0;
            html.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.#}\" y1=\"0\" x2=\"{x:0.#}\" y2=\"{height - 18}\" stroke=\"#e3e7ed\"/><text x=\"{x:0.#}\" y=\"{height - 4}\" text-anchor=\"middle\" fill=\"#8a94a3\">{tick}</text>").AppendLine();
        }

        for (var i = 0; i < datasets.Count; i++)
        {
            var dataset = datasets[i];
            var y = i * RowHeight;
            var barWidth = Math.Clamp(dataset.HitAt1, 0, 100) * BarAreaWidth / 100.0;
            html.Append(CultureInfo.InvariantCulture, $"<g class=\"bar\" data-dataset=\"{Encode(dataset.Name)}\" data-hit1=\"{dataset.HitAt1:0.###}\">");
            html.Append(CultureInfo.InvariantCulture, $"<title>{Encode(dataset.Name)}: hit@1 {ReportModel.Percent(dataset.HitAt1)}% on {dataset.ScoredRows} rows</title>");
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth - 8}\" y=\"{y + 16}\" text-anchor=\"end\">{Encode(dataset.Name)}</text>");
            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{LabelWidth}\" y=\"{y + 4}\" width=\"{barWidth:0.##}\" height=\"{RowHeight - 8}\" rx=\"2\" fill=\"{Colour(dataset.MetaTask)}\"/>");
            html.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth + barWidth + 6:0.##}\" y=\"{y + 16}\">{ReportModel.Percent(dataset.HitAt1)}</text>");
            if (model.Published(dataset) is { } published)
            {
                var x = LabelWidth + Math.Clamp(published, 0, 100) * BarAreaWidth / 100.0;
                html.Append(CultureInfo.InvariantCulture, $"<line class=\"published\" x1=\"{x:0.##}\" y1=\"{y + 1}\" x2=\"{x:0.##}\" y2=\"{y + RowHeight - 1}\" stroke=\"#1d2530\" stroke-width=\"2\"><title>published {Encode(model.Comparison!)}: {ReportModel.Percent(published)}</title></line>");
            }

            html.AppendLine("</g>");
        }

        html.AppendLine("</svg>");
        if (model.Comparison is { } comparison && datasets.Any(d => model.Published(d) is not null))
        {
            html.Append("<p class=\"meta\">Black marks: published hit@1 of ").Append(Encode(comparison)).AppendLine(" (spec §2.5).</p>");
        }
    }

    private static void WriteDatasetTable(StringBuilder html, ReportModel model)
    {
        html.Append("<table class=\"datasets\"><thead><tr><th>Dataset</th><th>Meta-task</th><th>Split</th><th>n</th><th>hit@1</th><th>recall@5</th><th>MRR</th>");
        if (model.HasNdcg)
        {
            html.Append("<th>NDCG@5</th>");
        }

        if (model.Comparison is not null)
        {
            html.Append("<th>published</th>");
        }

        html.AppendLine("<th>unique q / c</th><th>embedded</th><th>cached</th><th>time</th></tr></thead><tbody>");
        foreach (var dataset in model.Result.Datasets)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td><a href=\"#{Anchor(dataset.Name)}\">{Encode(dataset.Name)}</a></td><td>{ReportModel.MetaTaskLabel(dataset)}</td><td>{ReportModel.SplitLabel(dataset)}</td><td>{dataset.ScoredRows}</td>");
            html.Append(CultureInfo.InvariantCulture, $"<td>{ReportModel.Percent(dataset.HitAt1)}</td><td>{ReportModel.Percent(dataset.RecallAt5)}</td><td>{ReportModel.Percent(dataset.Mrr)}</td>");
            if (model.HasNdcg)
            {
                html.Append("<td>").Append(ReportModel.Percent(dataset.NdcgAt5)).Append("</td>");
            }

            if (model.Comparison is not null)
            {
                html.Append("<td>").Append(ReportModel.Percent(model.Published(dataset))).Append("</td>");
            }

            html.Append(CultureInfo.InvariantCulture, $"<td>{dataset.UniqueQueries} / {dataset.UniqueCandidates}</td><td>{dataset.EmbeddedInputs}</td><td>{dataset.CachedInputs}</td><td>{ReportModel.Seconds(dataset.EmbeddingTime + dataset.ScoringTime)}</td></tr>").AppendLine();
        }

        html.AppendLine("</tbody></table>");
    }

    private static void WriteDataset(StringBuilder html, ReportModel model, MmebDatasetScore dataset, ThumbnailWriter? thumbnails)
    {
        html.Append(CultureInfo.InvariantCulture, $"<section class=\"dataset\" id=\"{Anchor(dataset.Name)}\"><h2>{Encode(dataset.Name)}</h2>");
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"meta\">{ReportModel.MetaTaskLabel(dataset)} · {ReportModel.SplitLabel(dataset)} · hit@1 {ReportModel.Percent(dataset.HitAt1)}% on {dataset.ScoredRows} rows");
        if (dataset.FailedRows > 0 || dataset.SkippedRows > 0)
        {
            html.Append(CultureInfo.InvariantCulture, $" · {dataset.SkippedRows} malformed row(s) skipped, {dataset.FailedRows} failed");
        }

        html.Append(CultureInfo.InvariantCulture, $" · {dataset.UniqueQueries} unique queries, {dataset.UniqueCandidates} unique candidates for {dataset.CandidateSlots} slots");
        html.AppendLine("</p>");
        if (dataset.Problems.Count > 0)
        {
            html.Append("<ul class=\"problems\">");
            foreach (var problem in dataset.Problems)
            {
                html.Append("<li>").Append(Encode(problem)).Append("</li>");
            }

            html.AppendLine("</ul>");
        }

        html.AppendLine("<div class=\"examples\">");
        foreach (var example in dataset.Examples)
        {
            var kind = example.Hit ? "hit" : "miss";
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"example {kind}\"><span class=\"badge\">{(example.Hit ? "HIT" : "MISS")}</span> <span class=\"meta\">line {example.LineNumber} · positive ranked {example.PositiveRank} of {example.CandidateCount}</span>");
            WriteSide(html, "query", example.Query, null, thumbnails);
            WriteSide(html, "positive", example.Positive, example.PositiveScore, thumbnails);
            if (!example.Hit)
            {
                WriteSide(html, $"ranked first (candidate {example.PredictedIndex})", example.Predicted, example.PredictedScore, thumbnails);
            }

            html.AppendLine("</div>");
        }

        html.AppendLine("</div></section>");
    }

    private static void WriteSide(StringBuilder html, string label, MmebExampleInput input, float? score, ThumbnailWriter? thumbnails)
    {
        html.Append("<div class=\"label\">").Append(Encode(label));
        if (score is { } s)
        {
            html.Append(CultureInfo.InvariantCulture, $" · cosine {s:0.0000}");
        }

        html.Append("</div><div class=\"side\">");
        if (input.ResolvedImagePath is { } image)
        {
            var thumbnail = thumbnails?.Thumbnail(image);
            if (thumbnail is not null)
            {
                html.Append(CultureInfo.InvariantCulture, $"<img class=\"thumb\" src=\"{Encode(thumbnail)}\" alt=\"{Encode(input.ImagePath ?? image)}\" title=\"{Encode(input.ImagePath ?? image)}\">");
            }
            else
            {
                html.Append("<div class=\"noimg\">").Append(Encode(Path.GetFileName(image))).Append("</div>");
            }
        }

        html.Append("<pre>").Append(Encode(Visible(input.Prompt))).AppendLine("</pre></div>");
    }

    /// <summary>Shows line breaks as <c>\n</c> markers so that the exact string is visible.</summary>
    private static string Visible(string prompt) => prompt.Replace("\n", "\\n\n", StringComparison.Ordinal);

    private static string Colour(MmebMetaTask? task) => task switch
    {
        MmebMetaTask.Classification => "#4c78a8",
        MmebMetaTask.VisualQuestionAnswering => "#f58518",
        MmebMetaTask.Retrieval => "#54a24b",
        MmebMetaTask.VisualGrounding => "#b279a2",
        _ => "#9aa5b1",
    };

    private static string Anchor(string name)
    {
        var anchor = new StringBuilder("ds-");
        foreach (var c in name)
        {
            anchor.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        }

        return anchor.ToString();
    }

    private static string Encode(string value) => WebUtility.HtmlEncode(value);
}
