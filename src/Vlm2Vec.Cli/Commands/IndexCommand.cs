using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Vlm2Vec.Cli.Output;
using Vlm2Vec.Cli.Search;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec index --model &lt;folder&gt; --source &lt;folder&gt; --store &lt;file.db&gt;</c>: embeds every image and text
/// file under a folder as a target and keeps them in a SQLite vector store (<see cref="FolderIndexer"/>); re-running
/// embeds only new and changed files and removes entries of deleted ones.
/// </summary>
internal sealed class IndexCommand : VerbCommand
{
    private readonly Option<string> _model = new("--model", "-m")
    {
        Description = "The model: a vlm2vec model bundle folder or a Hugging Face checkpoint folder.",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string> _source = new("--source", "-s")
    {
        Description = "The folder to index, recursively: images (jpg, jpeg, png, gif, bmp, webp) and text files (.txt, .md).",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string> _store = new("--store")
    {
        Description = "The vector store file (SQLite); made if missing.",
        HelpName = "file.db",
        Required = true,
    };

    private readonly Option<string> _instruction = new("--instruction", "-i")
    {
        Description = "The instruction the files are embedded with (target side; default none). Changing it re-embeds every file.",
        HelpName = "text",
    };

    private readonly Option<string> _collection = new("--collection")
    {
        Description = "The collection in the store.",
        HelpName = "name",
        DefaultValueFactory = _ => VectorIndex.DefaultCollection,
    };

    private readonly Option<int> _batchSize = new("--batch-size")
    {
        Description = "Files per encoder batch and per store write.",
        HelpName = "N",
        DefaultValueFactory = _ => 16,
    };

    public IndexCommand(CliRun run)
        : base("index", "Embed every image and text file under a folder into a vector store (incremental: unchanged files are skipped, deleted ones removed).", run)
    {
        Options.Add(_model);
        Options.Add(_source);
        Options.Add(_store);
        Options.Add(_instruction);
        Options.Add(_collection);
        Options.Add(_batchSize);
    }

    public override string HelpEpilogue =>
        """
        The key of each entry is the file's path relative to --source; the store keeps the path, kind, a short preview,
        the model id, the instruction and the SHA-256 of the file. A file that cannot be read or embedded (a corrupt image)
        is reported in the summary and the rest are indexed. The store's path goes to stdout, the summary to stderr.

        Examples:
          vlm2vec index --model ./bundle --source ./photos --store photos.db
          vlm2vec index -m ./bundle -s ./notes --store notes.db --collection notes --instruction "Represent the given text."
        """;

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var batchSize = parseResult.GetValue(_batchSize);
        if (batchSize <= 0)
        {
            throw new CliUsageException($"--batch-size must be positive, not {batchSize}.");
        }

        var source = parseResult.GetRequiredValue(_source);
        if (!Directory.Exists(source))
        {
            throw new DirectoryNotFoundException($"--source '{source}' does not exist. Give a folder of images and text files.");
        }

        var storePath = parseResult.GetRequiredValue(_store);
        var collection = parseResult.GetValue(_collection) ?? VectorIndex.DefaultCollection;
        var instruction = parseResult.GetValue(_instruction);
        using var encoder = ModelLoader.Open(parseResult.GetRequiredValue(_model), context.Environment, context.LoggerFactory);
        var embedder = new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = batchSize }, EmbedderLogging.For(context));
        using var index = await VectorIndex.OpenAsync(storePath, collection, encoder.Info, create: true, context.LoggerFactory, cancellationToken).ConfigureAwait(false);
        var indexer = new FolderIndexer(embedder, new FolderIndexOptions
        {
            SourceFolder = source,
            BatchSize = batchSize,
            Instruction = instruction ?? string.Empty,
            ImageInput = (file, bytes) => MultimodalInput.FromImage(ImageInput.FromBytes(bytes, file.Key), instruction, role: EmbeddingRole.Target),
            TextInput = (_, text) => MultimodalInput.FromText(text, instruction, EmbeddingRole.Target),
        });
        var started = DateTime.UtcNow;
        var summary = await context.WithProgressAsync(ProgressUnit.Items, view => indexer.RunAsync(index, view, cancellationToken)).ConfigureAwait(false);
        context.WriteStatus(SummaryTable(summary, collection, encoder.Info, DateTime.UtcNow - started));
        if (summary.Failures.Count > 0)
        {
            context.WriteStatus(FailureTable(summary.Failures));
        }

        context.WriteResultLine(Path.GetFullPath(storePath));
        return ExitCodes.Success;
    }

    internal static Table SummaryTable(IndexSummary summary, string collection, Vlm2VecModelInfo model, TimeSpan elapsed)
    {
        var table = new Table()
            .Title($"index '{Markup.Escape(collection)}'")
            .AddColumn("files")
            .AddColumn(new TableColumn("count").RightAligned());
        table.AddRow("found", Count(summary.Found));
        table.AddRow("indexed (new)", Count(summary.Added));
        table.AddRow("indexed (changed)", Count(summary.Updated));
        table.AddRow("skipped (unchanged)", Count(summary.Unchanged));
        table.AddRow("removed (deleted)", Count(summary.Removed));
        table.AddRow(summary.Failures.Count > 0 ? "[red]failed[/]" : "failed", Count(summary.Failures.Count));
        table.Caption($"{Markup.Escape(model.ModelId)}, {model.Dimension.ToString(CultureInfo.InvariantCulture)}-d; {elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
        return table;
    }

    internal static Table FailureTable(IReadOnlyList<IndexFailure> failures)
    {
        var table = new Table().Title("[red]failed files[/]").AddColumn("file").AddColumn("reason");
        foreach (var failure in failures)
        {
            table.AddRow(Markup.Escape(failure.Key), Markup.Escape(failure.Reason));
        }

        return table;
    }

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);
}
