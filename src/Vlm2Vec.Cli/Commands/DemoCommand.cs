using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.VectorData;
using Spectre.Console;
using Vlm2Vec.Cli.Output;
using Vlm2Vec.Cli.Search;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec demo</c>: the guided end-to-end example, fully offline. Indexes the 50 shipped Fashion-MNIST sample
/// images with the shipped tiny demo model, then runs text → image search, image → image search and zero-shot
/// classification against the ten label texts, prints each as a table with ✓/✗ against the true class, and writes
/// everything to one self-contained <c>demo.html</c>.
/// </summary>
internal sealed class DemoCommand : VerbCommand
{
    /// <summary>The HTML file the demo writes in <c>--out</c>.</summary>
    public const string HtmlFileName = "demo.html";

    /// <summary>The vector store file the demo writes in <c>--out</c>.</summary>
    public const string StoreFileName = "demo.db";

    private const string TextToImageCollection = "fashion";
    private const string ClassificationCollection = "fashion-classification";
    private const int Top = 5;

    private const string Disclaimer =
        "This demo runs a tiny Qwen2-VL (hidden size 48) trained from scratch on Fashion-MNIST only: it knows 28×28 grey " +
        "clothing pictures and these captions, nothing else. It is not a real VLM2Vec model. For real multimodal embeddings, " +
        "download a VLM2Vec checkpoint with 'vlm2vec pull' and make it a bundle with 'vlm2vec convert' (see docs/cli.md), " +
        "then use it with embed, index and search.";

    private readonly Option<string> _model = new("--model", "-m")
    {
        Description = "The model (default: the demo model shipped with the tool, trained on Fashion-MNIST).",
        HelpName = "folder",
    };

    private readonly Option<string> _out = new("--out", "-o")
    {
        Description = $"Where to write the vector store ({StoreFileName}) and the gallery ({HtmlFileName}).",
        HelpName = "dir",
        DefaultValueFactory = _ => "vlm2vec-demo",
    };

    public DemoCommand(CliRun run)
        : base("demo", "Run the guided, offline end-to-end example: index 50 sample images, search them by text and by image, classify them; writes demo.html.", run)
    {
        Options.Add(_model);
        Options.Add(_out);
    }

    public override string HelpEpilogue =>
        """
        The demo model is tiny and was trained on Fashion-MNIST only; it is a guided tour of the commands, not a real
        VLM2Vec. The tables go to stdout, then the path of demo.html; progress to stderr. A second run reuses the store.

        Examples:
          vlm2vec demo
          vlm2vec demo --out ./my-demo
        """;

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var modelFolder = parseResult.GetValue(_model) ?? DemoAssets.RequireModel();
        var imagesFolder = DemoAssets.RequireImages();
        var labels = DemoAssets.ReadLabels(imagesFolder);
        var outFolder = parseResult.GetValue(_out) ?? "vlm2vec-demo";
        Directory.CreateDirectory(outFolder);

        // At most 100 columns: a redirected console is 4096 wide, and the note should read as a paragraph in a log too.
        context.Out.Write(new Panel(new Text(Disclaimer)) { Width = Math.Min(100, context.Out.Profile.Width) }.Header("vlm2vec demo").BorderColor(Color.Yellow));
        context.Out.WriteLine();

        using var encoder = ModelLoader.Open(modelFolder, context.Environment, context.LoggerFactory);
        var embedder = new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = 16 }, EmbedderLogging.For(context));
        var storePath = Path.Combine(outFolder, StoreFileName);
        await DiscardStoreOfAnotherModelAsync(context, storePath, encoder.Info, cancellationToken).ConfigureAwait(false);
        using var targets = await VectorIndex.OpenAsync(storePath, TextToImageCollection, encoder.Info, create: true, context.LoggerFactory, cancellationToken).ConfigureAwait(false);
        using var classified = await VectorIndex.OpenAsync(storePath, ClassificationCollection, encoder.Info, create: true, context.LoggerFactory, cancellationToken).ConfigureAwait(false);

        // 1. Index the sample images twice: as text -> image targets, and with the classification prompt.
        var summaries = await context.WithProgressAsync(ProgressUnit.Items, async view =>
        {
            var asTargets = await Indexer(embedder, imagesFolder, "images as text -> image targets", DemoPrompts.TargetImage, DemoPrompts.TargetInput).RunAsync(targets, view, cancellationToken).ConfigureAwait(false);
            var forClassification = await Indexer(embedder, imagesFolder, "images for classification", DemoPrompts.ClassificationImage, DemoPrompts.ClassificationInput).RunAsync(classified, view, cancellationToken).ConfigureAwait(false);
            return (asTargets, forClassification);
        }).ConfigureAwait(false);
        foreach (var failure in summaries.asTargets.Failures.Concat(summaries.forClassification.Failures))
        {
            context.Error.Write(new Text($"warning: {failure.Key} was not indexed: {failure.Reason}\n", new Style(Color.Yellow)));
        }

        context.Out.Write(new Markup(
            $"[bold]1. Index[/]: {summaries.asTargets.Found.ToString(CultureInfo.InvariantCulture)} images of {Markup.Escape(imagesFolder)} into {Markup.Escape(storePath)} " +
            $"({summaries.asTargets.Indexed + summaries.forClassification.Indexed} embedded, {summaries.asTargets.Unchanged + summaries.forClassification.Unchanged} unchanged since the last run).\n\n"));

        var gallery = new HtmlGallery("vlm2vec demo: Fashion-MNIST");
        gallery.AddParagraph(Disclaimer, note: true);
        gallery.AddHeading("1. Index");
        gallery.AddParagraph(
            $"Model {encoder.Info.ModelId} ({encoder.Info.Dimension}-d, {encoder.Info.Engine}). {summaries.asTargets.Found} Fashion-MNIST test images " +
            $"from {Path.GetFullPath(imagesFolder)} indexed into {Path.GetFullPath(storePath)}, as text → image targets " +
            "(\"<|image_1|>\\nRepresent the given image.\\n\") and for classification (\"<|image_1|>\\nRepresent the given image for classification\\n\").");

        await TextToImageAsync(context, gallery, embedder, targets, labels, cancellationToken).ConfigureAwait(false);
        var items = await classified.ReadAllAsync(includeVectors: true, cancellationToken).ConfigureAwait(false);
        await ImageToImageAsync(context, gallery, classified, items, labels, cancellationToken).ConfigureAwait(false);
        await ClassifyAsync(context, gallery, embedder, items, labels, cancellationToken).ConfigureAwait(false);

        var htmlPath = Path.GetFullPath(Path.Combine(outFolder, HtmlFileName));
        await gallery.WriteAsync(htmlPath, cancellationToken).ConfigureAwait(false);
        context.WriteStatus(new Markup($"Done in {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s. Open the gallery:\n"));
        context.WriteResultLine(htmlPath);
        return ExitCodes.Success;
    }

    /// <summary>The demo's store is disposable: one left by a run with another model is deleted rather than refused.</summary>
    private static async Task DiscardStoreOfAnotherModelAsync(CliContext context, string storePath, Vlm2VecModelInfo model, CancellationToken cancellationToken)
    {
        if (!File.Exists(storePath))
        {
            return;
        }

        try
        {
            using var existing = await VectorIndex.OpenAsync(storePath, TextToImageCollection, model, create: false, context.LoggerFactory, cancellationToken).ConfigureAwait(false);
            using var other = await VectorIndex.OpenAsync(storePath, ClassificationCollection, model, create: false, context.LoggerFactory, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IndexModelMismatchException or InvalidInputException)
        {
            context.Error.Write(new Text($"warning: {storePath} was made by another model or run; it is rebuilt.\n", new Style(Color.Yellow)));
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm", "-journal" })
            {
                File.Delete(storePath + suffix);
            }
        }
    }

    private static FolderIndexer Indexer(Vlm2VecEmbedder embedder, string imagesFolder, string label, string prompt, Func<ImageInput, MultimodalInput> input) =>
        new(embedder, new FolderIndexOptions
        {
            ProgressLabel = label,
            SourceFolder = imagesFolder,
            IncludeTextFiles = false,
            BatchSize = 16,
            Instruction = prompt,
            ImageInput = (file, bytes) => input(ImageInput.FromBytes(bytes, file.Key)),
            TextInput = (_, _) => throw new InvalidOperationException("The demo indexes images only."),
        });

    private static async Task TextToImageAsync(CliContext context, HtmlGallery gallery, Vlm2VecEmbedder embedder, VectorIndex targets, Dictionary<string, string> labels, CancellationToken cancellationToken)
    {
        gallery.AddHeading("2. Text → image search");
        var table = ResultTable("2. Text → image: each caption against every image, top 5", "caption");
        var queries = DemoPrompts.Captions.Select(c => DemoPrompts.CaptionQuery(c.Caption)).ToList();
        var vectors = await embedder.EmbedAsync(queries, cancellationToken).ConfigureAwait(false);
        for (var q = 0; q < queries.Count; q++)
        {
            var (caption, expected) = DemoPrompts.Captions[q];
            var hits = await targets.SearchAsync(vectors[q], Top, excludeKey: null, cancellationToken).ConfigureAwait(false);
            AddHitRows(table, $"\"{caption}\"", hits, labels, expected);
            gallery.AddQuery("Caption:", queries[q].Prompt!.TrimEnd('\n'), imagePath: null);
            gallery.AddCards(Cards(hits, labels, expected));
        }

        context.Out.Write(table);
        context.Out.WriteLine();
    }

    private static async Task ImageToImageAsync(CliContext context, HtmlGallery gallery, VectorIndex classified, Dictionary<string, IndexedItem> items, Dictionary<string, string> labels, CancellationToken cancellationToken)
    {
        gallery.AddHeading("3. Image → image search");
        if (!items.TryGetValue(DemoPrompts.ImageQueryFile, out var query))
        {
            context.Out.Write(new Markup($"[bold]3. Image → image[/]: {DemoPrompts.ImageQueryFile} was not indexed; skipped.\n\n"));
            gallery.AddParagraph($"{DemoPrompts.ImageQueryFile} was not indexed; skipped.");
            return;
        }

        var expected = labels.GetValueOrDefault(query.Key);
        var hits = await classified.SearchAsync(query.Vector, Top, excludeKey: query.Key, cancellationToken).ConfigureAwait(false);
        var table = ResultTable($"3. Image → image: {query.Key} against the other images, top 5", "query image");
        AddHitRows(table, query.Key, hits, labels, expected);
        context.Out.Write(table);
        context.Out.WriteLine();
        gallery.AddQuery("Query image:", $"{query.Key} ({expected})", query.Path);
        gallery.AddCards(Cards(hits, labels, expected));
    }

    private static async Task ClassifyAsync(CliContext context, HtmlGallery gallery, Vlm2VecEmbedder embedder, Dictionary<string, IndexedItem> items, Dictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var labelVectors = await embedder.EmbedAsync(DemoPrompts.Labels.Select(DemoPrompts.LabelTarget).ToList(), cancellationToken).ConfigureAwait(false);
        var predictions = new List<(IndexedItem Item, string Truth, string Predicted, double Score)>();
        foreach (var item in items.Values.OrderBy(i => i.Key, StringComparer.Ordinal))
        {
            if (!labels.TryGetValue(item.Key, out var truth))
            {
                continue; // not one of the labelled samples
            }

            var best = 0;
            var bestScore = double.NegativeInfinity;
            for (var l = 0; l < labelVectors.Length; l++)
            {
                // Both sides are L2-normalised, so the dot product is the cosine similarity.
                double score = System.Numerics.Tensors.TensorPrimitives.Dot(item.Vector.Span, labelVectors[l]);
                if (score > bestScore)
                {
                    best = l;
                    bestScore = score;
                }
            }

            predictions.Add((item, truth, DemoPrompts.Labels[best], bestScore));
        }

        var correct = predictions.Count(p => p.Truth == p.Predicted);
        var accuracy = predictions.Count == 0 ? 0 : 100.0 * correct / predictions.Count;
        var verdict = string.Create(CultureInfo.InvariantCulture, $"accuracy {correct}/{predictions.Count} = {accuracy:0.0} % (chance: 10 %)");

        var table = new Table().Title($"4. Classification: each image against the 10 label texts; {verdict}")
            .AddColumn("image").AddColumn("true label").AddColumn("predicted").AddColumn(new TableColumn("score").RightAligned()).AddColumn("");
        var shown = predictions.Where(p => p.Item.Key.EndsWith("-1.png", StringComparison.Ordinal)).ToList();
        foreach (var (item, truth, predicted, score) in shown)
        {
            table.AddRow(Markup.Escape(item.Key), Markup.Escape(truth), Markup.Escape(predicted), Score(score), Mark(truth == predicted));
        }

        table.Caption($"{shown.Count} of {predictions.Count} shown (the first of each class); all of them are in {HtmlFileName}");
        context.Out.Write(table);
        context.Out.WriteLine();
        context.Out.Write(new Markup($"[bold]Classification {Markup.Escape(verdict)}[/]\n\n"));

        gallery.AddHeading("4. Classification against the 10 label texts");
        gallery.AddParagraph($"Each image (\"Represent the given image for classification\") is compared with the label texts {string.Join(", ", DemoPrompts.Labels)}; the nearest label is the prediction. Classification {verdict}.");
        gallery.AddTable(
            ["image", "true label", "predicted", "score", ""],
            predictions.Select(p => (IReadOnlyList<string>)[p.Item.Key, p.Truth, p.Predicted, Score(p.Score), p.Truth == p.Predicted ? "✓" : "✗"]));
        gallery.AddCards(predictions.Select(p => new GalleryCard
        {
            Title = p.Item.Key,
            ImagePath = p.Item.Path,
            Text = $"→ {p.Predicted}",
            Score = p.Score,
            Correct = p.Truth == p.Predicted,
        }));
    }

    private static Table ResultTable(string title, string queryColumn) =>
        new Table().Title(Markup.Escape(title))
            .AddColumn(queryColumn).AddColumn(new TableColumn("rank").RightAligned()).AddColumn("image").AddColumn("label")
            .AddColumn(new TableColumn("score").RightAligned()).AddColumn("");

    private static void AddHitRows(Table table, string query, IReadOnlyList<SearchHit> hits, Dictionary<string, string> labels, string? expected)
    {
        foreach (var hit in hits)
        {
            var label = labels.GetValueOrDefault(hit.Item.Key) ?? "?";
            table.AddRow(
                hit.Rank == 1 ? Markup.Escape(query) : string.Empty,
                hit.Rank.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(hit.Item.Key),
                Markup.Escape(label),
                Score(hit.Score),
                Mark(label == expected));
        }
    }

    private static IEnumerable<GalleryCard> Cards(IReadOnlyList<SearchHit> hits, Dictionary<string, string> labels, string? expected) =>
        hits.Select(hit => new GalleryCard
        {
            Title = hit.Item.Key,
            ImagePath = hit.Item.Path,
            Rank = hit.Rank,
            Score = hit.Score,
            Correct = labels.GetValueOrDefault(hit.Item.Key) == expected,
        });

    private static string Score(double score) => score.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Mark(bool correct) => correct ? "[green]✓[/]" : "[red]✗[/]";
}
