using System.Globalization;

namespace Vlm2Vec.Evaluation;

/// <summary>What the three report formats share: the comparison column, its aggregates, number formatting.</summary>
internal sealed class ReportModel
{
    public ReportModel(MmebEvaluationResult result, MmebReportOptions options)
    {
        Result = result;
        Options = options;
        Comparison = options.NoComparison ? null : options.CompareWith ?? MmebPublishedScores.Match(result.Model.ModelId);
        if (Comparison is not null && !MmebPublishedScores.Models.Contains(Comparison, StringComparer.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"There are no published scores for '{Comparison}'; choose one of {string.Join(", ", MmebPublishedScores.Models)}.", nameof(options));
        }

        if (Comparison is not null)
        {
            var entries = new List<MmebScoreEntry>();
            foreach (var dataset in result.Datasets)
            {
                if (Published(dataset) is { } value)
                {
                    entries.Add(new MmebScoreEntry(dataset.Name, dataset.MetaTask, dataset.IsOutOfDistribution, value));
                }
            }

            PublishedAggregates = entries.Count > 0 ? MmebAggregation.Compute(entries) : null;
        }
    }

    public MmebEvaluationResult Result { get; }

    public MmebReportOptions Options { get; }

    /// <summary>The published model compared with, or null.</summary>
    public string? Comparison { get; }

    /// <summary>The published model's aggregates over the datasets present that have a published score.</summary>
    public MmebAggregateScores? PublishedAggregates { get; }

    public bool HasNdcg => Result.Settings.ComputeNdcg;

    public double? Published(MmebDatasetScore dataset) => Comparison is null ? null : MmebPublishedScores.Find(Comparison, dataset.Name);

    /// <summary>The aggregate rows in report order: CLS, VQA, RET, GD, IND, OOD, Overall (only those present).</summary>
    public static IEnumerable<(string Label, MmebAggregate Value)> Rows(MmebAggregateScores scores)
    {
        foreach (var (task, value) in scores.MetaTasks)
        {
            yield return (MmebAggregation.Label(task), value);
        }

        if (scores.InDistribution is { } ind)
        {
            yield return ("IND", ind);
        }

        if (scores.OutOfDistribution is { } ood)
        {
            yield return ("OOD", ood);
        }

        if (scores.Overall is { } all)
        {
            yield return ("Overall", all);
        }
    }

    public static MmebAggregate? Find(MmebAggregateScores? scores, string label)
    {
        if (scores is null)
        {
            return null;
        }

        foreach (var (name, value) in Rows(scores))
        {
            if (name == label)
            {
                return value;
            }
        }

        return null;
    }

    public static string MetaTaskLabel(MmebDatasetScore dataset) => dataset.MetaTask is { } task ? MmebAggregation.Label(task) : "—";

    public static string SplitLabel(MmebDatasetScore dataset) => dataset.IsOutOfDistribution switch
    {
        true => "OOD",
        false => "IND",
        null => "—",
    };

    public static string Percent(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "—";

    public static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
