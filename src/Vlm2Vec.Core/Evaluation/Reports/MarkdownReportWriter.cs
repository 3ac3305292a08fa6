using System.Globalization;
using System.Text;

namespace Vlm2Vec.Evaluation;

/// <summary>Writes <c>report.md</c>: the model, the settings, a per-dataset table and the aggregates.</summary>
internal static class MarkdownReportWriter
{
    public static string Write(ReportModel model)
    {
        var result = model.Result;
        var text = new StringBuilder();
        text.Append("# MMEB evaluation: ").AppendLine(Escape(result.Model.ModelId)).AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"- Model: `{result.Model.ModelId}` ({result.Model.Architecture}, {result.Model.Engine}, {result.Model.DType}, dimension {result.Model.Dimension})").AppendLine();
        if (result.Model.Source is { } source)
        {
            text.Append("- Loaded from: `").Append(source).AppendLine("`");
        }

        text.Append(CultureInfo.InvariantCulture, $"- Started: {result.StartedAt:yyyy-MM-dd HH:mm:ss} UTC, took {ReportModel.Seconds(result.Duration)}").AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"- Protocol: MMEB V1 — each query ranked against its own candidate list by cosine; hit@1 (ties go to the lowest index); means over the datasets present").AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"- Settings: batch size {result.Settings.MaxBatchSize}, row limit {(result.Settings.RowLimit?.ToString(CultureInfo.InvariantCulture) ?? "none")}, NDCG@5 {(result.Settings.ComputeNdcg ? "on" : "off")}, image placeholder `{result.Settings.ImagePlaceholder}`, embedding cache {(result.Settings.EmbeddingCacheFolder is { } cache ? $"`{cache}`" : "off")}").AppendLine();
        if (model.Comparison is { } comparison)
        {
            text.Append("- Published: ").Append(comparison).AppendLine(" (hit@1, VLM2Vec V2-framework re-evaluation, spec §2.5)");
        }

        text.AppendLine().AppendLine("## Datasets").AppendLine();
        var header = new StringBuilder("| Dataset | Meta-task | Split | n | hit@1 | recall@5 | MRR |");
        var rule = new StringBuilder("|---|---|---|---:|---:|---:|---:|");
        if (model.HasNdcg)
        {
            header.Append(" NDCG@5 |");
            rule.Append("---:|");
        }

        if (model.Comparison is not null)
        {
            header.Append(" published |");
            rule.Append("---:|");
        }

        header.Append(" unique q / c | embedded | cached | time |");
        rule.Append("---:|---:|---:|---:|");
        text.AppendLine(header.ToString()).AppendLine(rule.ToString());
        foreach (var dataset in result.Datasets)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {Escape(dataset.Name)} | {ReportModel.MetaTaskLabel(dataset)} | {ReportModel.SplitLabel(dataset)} | {dataset.ScoredRows} | {ReportModel.Percent(dataset.HitAt1)} | {ReportModel.Percent(dataset.RecallAt5)} | {ReportModel.Percent(dataset.Mrr)} |");
            if (model.HasNdcg)
            {
                text.Append(' ').Append(ReportModel.Percent(dataset.NdcgAt5)).Append(" |");
            }

            if (model.Comparison is not null)
            {
                text.Append(' ').Append(ReportModel.Percent(model.Published(dataset))).Append(" |");
            }

            text.Append(CultureInfo.InvariantCulture, $" {dataset.UniqueQueries} / {dataset.UniqueCandidates} | {dataset.EmbeddedInputs} | {dataset.CachedInputs} | {ReportModel.Seconds(dataset.EmbeddingTime + dataset.ScoringTime)} |").AppendLine();
        }

        text.AppendLine().AppendLine("## Aggregates").AppendLine();
        var aggregateHeader = new StringBuilder("| | hit@1 | datasets |");
        var aggregateRule = new StringBuilder("|---|---:|---:|");
        if (result.NdcgAggregates is not null)
        {
            aggregateHeader.Append(" NDCG@5 |");
            aggregateRule.Append("---:|");
        }

        if (model.PublishedAggregates is not null)
        {
            aggregateHeader.Append(" published (same datasets) |");
            aggregateRule.Append("---:|");
        }

        text.AppendLine(aggregateHeader.ToString()).AppendLine(aggregateRule.ToString());
        foreach (var (label, value) in ReportModel.Rows(result.Aggregates))
        {
            text.Append(CultureInfo.InvariantCulture, $"| {label} | {ReportModel.Percent(value.Mean)} | {value.DatasetCount} |");
            if (result.NdcgAggregates is { } ndcg)
            {
                text.Append(' ').Append(ReportModel.Percent(ReportModel.Find(ndcg, label)?.Mean)).Append(" |");
            }

            if (model.PublishedAggregates is { } published)
            {
                var found = ReportModel.Find(published, label);
                text.Append(' ').Append(found is { } p ? $"{ReportModel.Percent(p.Mean)} ({p.DatasetCount})" : "—").Append(" |");
            }

            text.AppendLine();
        }

        text.AppendLine().AppendLine("Meta-task, IND/OOD and overall scores are unweighted means over the datasets present (MMEB V1, spec §2.3); datasets outside the MMEB catalog count in the meta-task their name ends with and in Overall only.");
        var problems = result.Datasets.Where(d => d.Problems.Count > 0 || d.FailedRows > 0 || d.SkippedRows > 0).ToList();
        if (problems.Count > 0)
        {
            text.AppendLine().AppendLine("## Rows left out").AppendLine();
            foreach (var dataset in problems)
            {
                text.Append(CultureInfo.InvariantCulture, $"- **{Escape(dataset.Name)}**: {dataset.SkippedRows} malformed row(s) skipped, {dataset.FailedRows} row(s) whose inputs could not be embedded").AppendLine();
                foreach (var problem in dataset.Problems)
                {
                    text.Append("  - ").AppendLine(Escape(problem));
                }
            }
        }

        return text.ToString();
    }

    private static string Escape(string value) => value.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
