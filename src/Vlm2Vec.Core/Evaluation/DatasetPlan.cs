namespace Vlm2Vec.Evaluation;

/// <summary>
/// The unique queries and candidates of a dataset (VLM2Vec V1's <c>get_paired_data</c>: one entry per distinct
/// (text, image path), first-seen order) and, per row, the indices of its query and its candidates. Each unique input also
/// remembers its first row and field, so that an input the model cannot embed is reported where it occurs.
/// </summary>
internal sealed class DatasetPlan
{
    private DatasetPlan(MmebEvalDataset dataset)
    {
        Dataset = dataset;
    }

    public MmebEvalDataset Dataset { get; }

    public List<EvaluationInputKey> Queries { get; } = [];

    public List<EvaluationInputKey> Candidates { get; } = [];

    /// <summary>First occurrence of each unique query: (row index, field).</summary>
    public List<(int Row, string Field)> QueryOrigins { get; } = [];

    /// <summary>First occurrence of each unique candidate: (row index, field).</summary>
    public List<(int Row, string Field)> CandidateOrigins { get; } = [];

    /// <summary>Per row, the index of its query in <see cref="Queries"/>.</summary>
    public int[] RowQuery { get; private set; } = [];

    /// <summary>Per row, the start of its candidates in <see cref="RowCandidates"/> (length rows + 1).</summary>
    public int[] CandidateOffsets { get; private set; } = [];

    /// <summary>The candidate indices of all rows, concatenated.</summary>
    public int[] RowCandidates { get; private set; } = [];

    public int MaxCandidates { get; private set; }

    public static DatasetPlan Build(MmebEvalDataset dataset)
    {
        var plan = new DatasetPlan(dataset);
        var rows = dataset.Rows;
        var queryIndex = new Dictionary<EvaluationInputKey, int>();
        var candidateIndex = new Dictionary<EvaluationInputKey, int>();
        plan.RowQuery = new int[rows.Count];
        plan.CandidateOffsets = new int[rows.Count + 1];
        long total = 0;
        foreach (var row in rows)
        {
            total += row.CandidateCount;
        }

        plan.RowCandidates = new int[checked((int)total)];
        var cursor = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            var query = new EvaluationInputKey(row.QueryText, row.QueryImagePath);
            if (!queryIndex.TryGetValue(query, out var q))
            {
                q = plan.Queries.Count;
                queryIndex.Add(query, q);
                plan.Queries.Add(query);
                plan.QueryOrigins.Add((r, row.QueryImagePath.Length > 0 && row.QueryText.Length == 0 ? RawRow.QueryImageField : RawRow.QueryTextField));
            }

            plan.RowQuery[r] = q;
            plan.CandidateOffsets[r] = cursor;
            plan.MaxCandidates = Math.Max(plan.MaxCandidates, row.CandidateCount);
            for (var j = 0; j < row.CandidateCount; j++)
            {
                var candidate = new EvaluationInputKey(row.TargetTexts[j], row.TargetImagePaths[j]);
                if (!candidateIndex.TryGetValue(candidate, out var c))
                {
                    c = plan.Candidates.Count;
                    candidateIndex.Add(candidate, c);
                    plan.Candidates.Add(candidate);
                    plan.CandidateOrigins.Add((r, $"{RawRow.TargetTextField}[{j}]"));
                }

                plan.RowCandidates[cursor++] = c;
            }
        }

        plan.CandidateOffsets[rows.Count] = cursor;
        return plan;
    }

    public ReadOnlySpan<int> CandidatesOf(int row) => RowCandidates.AsSpan(CandidateOffsets[row], CandidateOffsets[row + 1] - CandidateOffsets[row]);

    /// <summary>"file, line N ('field')" for a row.</summary>
    public string Locate(int row, string field)
    {
        var source = Dataset.Rows[row];
        if (source.SourcePath is null)
        {
            return $"dataset '{Dataset.Name}', row {row + 1} ('{field}')";
        }

        var unit = source.SourcePath.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? "row" : "line";
        return $"{source.SourcePath}, {unit} {source.LineNumber} ('{field}')";
    }
}
