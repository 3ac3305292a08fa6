using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Vlm2Vec.Cli.Output;
using Vlm2Vec.Evaluation;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec eval --model &lt;folder&gt; --data &lt;file or folder&gt;</c>: the MMEB evaluation protocol
/// (<see cref="MmebEvaluator"/>) with a progress bar per dataset; writes <c>scores.json</c>, <c>report.md</c> and
/// <c>report.html</c> (with example thumbnails) to <c>--out</c> and prints the score table on stdout.
/// </summary>
internal sealed class EvalCommand : VerbCommand
{
    private readonly Option<string> _model = new("--model", "-m")
    {
        Description = "The model: a vlm2vec model bundle folder or a Hugging Face checkpoint folder.",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string[]> _data = new("--data", "-d")
    {
        Description = "MMEB-eval data: a .jsonl or .parquet file, or a folder of them (repeatable). Rows {qry_text, qry_img_path, tgt_text[], tgt_img_path[]}, positive first.",
        HelpName = "path",
        Required = true,
        AllowMultipleArgumentsPerToken = true,
    };

    private readonly Option<string> _imageRoot = new("--image-root")
    {
        Description = "The folder the rows' image paths are relative to (default: each data file's folder).",
        HelpName = "dir",
    };

    private readonly Option<string> _out = new("--out", "-o")
    {
        Description = "Where to write scores.json, report.md, report.html and thumbnails/.",
        HelpName = "dir",
        DefaultValueFactory = _ => "eval-report",
    };

    private readonly Option<bool> _ndcg = new("--ndcg")
    {
        Description = "Also compute NDCG@5 (linear gain).",
    };

    private readonly Option<int?> _limit = new("--limit")
    {
        Description = "Evaluate only the first N rows of each dataset.",
        HelpName = "N",
    };

    private readonly Option<int> _batchSize = new("--batch-size")
    {
        Description = "Inputs per encoder batch.",
        HelpName = "N",
        DefaultValueFactory = _ => 16,
    };

    private readonly Option<string> _cacheDir = new("--cache-dir")
    {
        Description = "Keep embeddings in this folder and reuse them in later runs of the same model (off by default).",
        HelpName = "dir",
    };

    private readonly Option<bool> _skipInvalid = new("--skip-invalid")
    {
        Description = "Skip malformed rows and rows whose inputs cannot be embedded (counted in the reports) instead of stopping.",
    };

    private readonly Option<int> _examples = new("--examples")
    {
        Description = "Example hits and misses per dataset in report.html.",
        HelpName = "N",
        DefaultValueFactory = _ => 3,
    };

    private readonly Option<string> _compare = new("--compare")
    {
        Description = $"Published scores to compare with: {string.Join(", ", MmebPublishedScores.Models)} or none (default: guessed from the model id).",
        HelpName = "model",
    };

    private readonly Option<bool> _noThumbnails = new("--no-thumbnails")
    {
        Description = "Write no example thumbnails next to report.html.",
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print scores.json on stdout instead of the table.",
    };

    public EvalCommand(CliRun run)
        : base("eval", "Evaluate a model on MMEB-format data (hit@1 per dataset, meta-task and IND/OOD means) and write JSON, Markdown and HTML reports.", run)
    {
        Options.Add(_model);
        Options.Add(_data);
        Options.Add(_imageRoot);
        Options.Add(_out);
        Options.Add(_ndcg);
        Options.Add(_limit);
        Options.Add(_batchSize);
        Options.Add(_cacheDir);
        Options.Add(_skipInvalid);
        Options.Add(_examples);
        Options.Add(_compare);
        Options.Add(_noThumbnails);
        Options.Add(_json);
    }

    public override string HelpEpilogue =>
        """
        Each query is ranked against its own candidates by cosine; hit@1 counts the positive (candidate 0) ranked first,
        ties going to the lowest index as in VLM2Vec V1. Identical inputs are embedded once per dataset. The score table
        goes to stdout (--json: scores.json), progress and the report location to stderr.

        Examples:
          vlm2vec eval --model ./VLM2Vec-Qwen2VL-2B-bundle --data ./MMEB-eval --image-root ./MMEB-eval/eval_images
          vlm2vec eval -m ./bundle -d shared/data/mmeb/derived --image-root shared/data --limit 100 --ndcg -o ./report
        """;

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var limit = parseResult.GetValue(_limit);
        var batchSize = parseResult.GetValue(_batchSize);
        var examples = parseResult.GetValue(_examples);
        if (limit is <= 0)
        {
            throw new CliUsageException($"--limit must be a positive number of rows, not {limit}.");
        }

        if (batchSize <= 0)
        {
            throw new CliUsageException($"--batch-size must be positive, not {batchSize}.");
        }

        if (examples < 0)
        {
            throw new CliUsageException($"--examples must be 0 or more, not {examples}.");
        }

        var reportOptions = ReportOptions(parseResult.GetValue(_compare), !parseResult.GetValue(_noThumbnails));
        var imageRoot = parseResult.GetValue(_imageRoot);
        if (imageRoot is not null && !Directory.Exists(imageRoot))
        {
            throw new CliUsageException($"--image-root '{imageRoot}' does not exist. Give the folder the rows' image paths are relative to.");
        }

        var skip = parseResult.GetValue(_skipInvalid) ? InvalidDataHandling.Skip : InvalidDataHandling.Fail;
        var logger = context.CreateLogger("Vlm2Vec.Evaluation");
        var datasets = await MmebDataLoader.LoadAsync(
            parseResult.GetRequiredValue(_data),
            new MmebDataLoadOptions { ImageRoot = imageRoot, RowLimit = limit, InvalidRows = skip },
            logger,
            cancellationToken).ConfigureAwait(false);

        using var encoder = ModelLoader.Open(parseResult.GetRequiredValue(_model), context.Environment, context.LoggerFactory);
        var embedder = new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = batchSize }, context.CreateLogger("Vlm2Vec.Embedder"));
        var evaluator = new MmebEvaluator(
            embedder,
            new MmebEvaluationOptions
            {
                ComputeNdcg = parseResult.GetValue(_ndcg),
                EmbeddingCacheFolder = parseResult.GetValue(_cacheDir),
                EmbeddingFailures = skip,
                ExamplesPerOutcome = examples,
                RowLimit = limit,
            },
            logger);

        var result = await context.WithProgressAsync(
            ProgressUnit.Items,
            view => evaluator.EvaluateAsync(datasets, new EvalProgressObserver(view), cancellationToken)).ConfigureAwait(false);
        var files = await MmebReportWriter.WriteAsync(result, parseResult.GetValue(_out) ?? "eval-report", reportOptions, logger, cancellationToken).ConfigureAwait(false);

        if (parseResult.GetValue(_json))
        {
            context.WriteResultLine(await File.ReadAllTextAsync(files.ScoresJson, cancellationToken).ConfigureAwait(false));
        }
        else
        {
            context.Out.Write(ResultTable(result, reportOptions));
        }

        context.WriteStatus(new Markup(
            $"Reports: [bold]{Markup.Escape(files.HtmlReport)}[/] (also {Markup.Escape(MmebReportWriter.MarkdownFileName)}, {Markup.Escape(MmebReportWriter.ScoresFileName)}; " +
            $"{files.Thumbnails.Count} thumbnail(s)); {result.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s\n"));
        return ExitCodes.Success;
    }

    private static MmebReportOptions ReportOptions(string? compare, bool thumbnails)
    {
        if (compare is null)
        {
            return new MmebReportOptions { WriteThumbnails = thumbnails };
        }

        if (string.Equals(compare, "none", StringComparison.OrdinalIgnoreCase))
        {
            return new MmebReportOptions { NoComparison = true, WriteThumbnails = thumbnails };
        }

        var match = MmebPublishedScores.Models.FirstOrDefault(m => string.Equals(m, compare, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliUsageException($"--compare '{compare}' has no published scores; use one of {string.Join(", ", MmebPublishedScores.Models)}, or none.");
        return new MmebReportOptions { CompareWith = match, WriteThumbnails = thumbnails };
    }

    private static Table ResultTable(MmebEvaluationResult result, MmebReportOptions options)
    {
        var comparison = options.NoComparison ? null : options.CompareWith ?? MmebPublishedScores.Match(result.Model.ModelId);
        var ndcg = result.Settings.ComputeNdcg;
        var table = new Table().Title($"MMEB: {Markup.Escape(result.Model.ModelId)}")
            .AddColumn("dataset")
            .AddColumn("task")
            .AddColumn("split")
            .AddColumn(new TableColumn("n").RightAligned())
            .AddColumn(new TableColumn("hit@1").RightAligned());
        if (ndcg)
        {
            table.AddColumn(new TableColumn("NDCG@5").RightAligned());
        }

        if (comparison is not null)
        {
            table.AddColumn(new TableColumn("published").RightAligned());
        }

        foreach (var dataset in result.Datasets)
        {
            var cells = new List<string>
            {
                Markup.Escape(dataset.Name),
                dataset.MetaTask is { } task ? MmebAggregation.Label(task) : "-",
                dataset.IsOutOfDistribution switch { true => "OOD", false => "IND", null => "-" },
                dataset.ScoredRows.ToString(CultureInfo.InvariantCulture),
                Percent(dataset.HitAt1),
            };
            if (ndcg)
            {
                cells.Add(Percent(dataset.NdcgAt5));
            }

            if (comparison is not null)
            {
                cells.Add(Percent(MmebPublishedScores.Find(comparison, dataset.Name)));
            }

            table.AddRow(cells.ToArray());
        }

        table.AddEmptyRow();
        AddAggregate(table, "CLS", result, MmebMetaTask.Classification, ndcg, comparison);
        AddAggregate(table, "VQA", result, MmebMetaTask.VisualQuestionAnswering, ndcg, comparison);
        AddAggregate(table, "RET", result, MmebMetaTask.Retrieval, ndcg, comparison);
        AddAggregate(table, "GD", result, MmebMetaTask.VisualGrounding, ndcg, comparison);
        AddAggregate(table, "IND", result.Aggregates.InDistribution, result.NdcgAggregates?.InDistribution, ndcg, comparison);
        AddAggregate(table, "OOD", result.Aggregates.OutOfDistribution, result.NdcgAggregates?.OutOfDistribution, ndcg, comparison);
        AddAggregate(table, "Overall", result.Aggregates.Overall, result.NdcgAggregates?.Overall, ndcg, comparison);
        return table;
    }

    private static void AddAggregate(Table table, string label, MmebEvaluationResult result, MmebMetaTask task, bool ndcg, string? comparison) =>
        AddAggregate(
            table,
            label,
            result.Aggregates.MetaTasks.TryGetValue(task, out var value) ? value : null,
            result.NdcgAggregates is { } n && n.MetaTasks.TryGetValue(task, out var ndcgValue) ? ndcgValue : null,
            ndcg,
            comparison);

    private static void AddAggregate(Table table, string label, MmebAggregate? value, MmebAggregate? ndcgValue, bool ndcg, string? comparison)
    {
        if (value is not { } aggregate)
        {
            return;
        }

        var cells = new List<string>
        {
            $"[bold]{label}[/]",
            string.Empty,
            string.Empty,
            aggregate.DatasetCount.ToString(CultureInfo.InvariantCulture) + (aggregate.DatasetCount == 1 ? " set" : " sets"),
            $"[bold]{Percent(aggregate.Mean)}[/]",
        };
        if (ndcg)
        {
            cells.Add(Percent(ndcgValue?.Mean));
        }

        if (comparison is not null)
        {
            cells.Add(string.Empty);
        }

        table.AddRow(cells.ToArray());
    }

    private static string Percent(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "-";
}
