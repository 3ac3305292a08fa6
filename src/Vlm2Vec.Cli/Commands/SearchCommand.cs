using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Vlm2Vec.Cli.Search;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec search --model &lt;folder&gt; --store &lt;file.db&gt; (--text T | --image path)</c>: embeds the query and
/// prints the nearest indexed files (table, or <c>--json</c>); <c>--html</c> writes a self-contained gallery of the hits.
/// </summary>
internal sealed class SearchCommand : VerbCommand
{
    private readonly Option<string> _model = new("--model", "-m")
    {
        Description = "The model that built the store: a vlm2vec model bundle folder or a Hugging Face checkpoint folder.",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string> _store = new("--store")
    {
        Description = "The vector store file made by vlm2vec index.",
        HelpName = "file.db",
        Required = true,
    };

    private readonly Option<string> _text = new("--text", "-t")
    {
        Description = "The query text.",
        HelpName = "text",
    };

    private readonly Option<string> _image = new("--image")
    {
        Description = "The query image file (with --text too: one image-and-text query).",
        HelpName = "path",
    };

    private readonly Option<string> _instruction = new("--instruction", "-i")
    {
        Description = "The query instruction (e.g. \"Find an image that matches the given text.\"; default none).",
        HelpName = "text",
    };

    private readonly Option<int> _top = new("--top", "-k")
    {
        Description = "How many hits to show.",
        HelpName = "k",
        DefaultValueFactory = _ => 10,
    };

    private readonly Option<string> _collection = new("--collection")
    {
        Description = "The collection in the store.",
        HelpName = "name",
        DefaultValueFactory = _ => VectorIndex.DefaultCollection,
    };

    private readonly Option<string> _html = new("--html")
    {
        Description = "Also write a self-contained HTML gallery of the hits (images inlined) to this file.",
        HelpName = "file",
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print the hits as JSON on stdout instead of the table.",
    };

    public SearchCommand(CliRun run)
        : base("search", "Search a vector store made by 'vlm2vec index' with a text or image query.", run)
    {
        Options.Add(_model);
        Options.Add(_store);
        Options.Add(_text);
        Options.Add(_image);
        Options.Add(_instruction);
        Options.Add(_top);
        Options.Add(_collection);
        Options.Add(_html);
        Options.Add(_json);
    }

    public override string HelpEpilogue =>
        """
        The query is embedded on the query side and every entry of the collection is scored by cosine similarity. The
        store remembers the model that built it; a different model (id or dimension) is refused.

        Examples:
          vlm2vec search --model ./bundle --store photos.db --text "a dog on a beach" --top 5
          vlm2vec search -m ./bundle --store photos.db --image query.jpg --html hits.html
          vlm2vec search -m ./bundle --store notes.db --collection notes -t "invoice from March" --json
        """;

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var text = parseResult.GetValue(_text);
        var image = parseResult.GetValue(_image);
        var top = parseResult.GetValue(_top);
        if (string.IsNullOrEmpty(text) && image is null)
        {
            throw new CliUsageException("Give the query: --text, --image, or both.");
        }

        if (top <= 0)
        {
            throw new CliUsageException($"--top must be positive, not {top}.");
        }

        if (image is not null && !File.Exists(image))
        {
            throw new FileNotFoundException($"Query image '{image}' does not exist.", image);
        }

        var storePath = parseResult.GetRequiredValue(_store);
        if (!File.Exists(storePath))
        {
            throw new InvalidInputException($"Vector store '{storePath}' does not exist. Build it first: vlm2vec index --model <folder> --source <folder> --store {storePath}.");
        }

        var instruction = parseResult.GetValue(_instruction);
        var collection = parseResult.GetValue(_collection) ?? VectorIndex.DefaultCollection;
        using var encoder = ModelLoader.Open(parseResult.GetRequiredValue(_model), context.Environment, context.LoggerFactory);
        using var index = await VectorIndex.OpenAsync(storePath, collection, encoder.Info, create: false, context.LoggerFactory, cancellationToken).ConfigureAwait(false);
        var query = new MultimodalInput
        {
            Text = string.IsNullOrEmpty(text) ? null : text,
            Images = image is null ? [] : [ImageInput.FromFile(image)],
            Instruction = instruction,
            Role = EmbeddingRole.Query,
        };
        var embedder = new Vlm2VecEmbedder(encoder, logger: context.CreateLogger("Vlm2Vec.Embedder"));
        var vector = await embedder.EmbedAsync(query, cancellationToken).ConfigureAwait(false);
        var hits = await index.SearchAsync(vector, top, excludeKey: null, cancellationToken).ConfigureAwait(false);

        if (parseResult.GetValue(_json))
        {
            context.WriteResultLine(Json(encoder.Info, collection, text, image, instruction, hits));
        }
        else
        {
            context.Out.Write(HitTable(hits, $"{Describe(text, image)}: top {top.ToString(CultureInfo.InvariantCulture)} of '{collection}'"));
        }

        if (parseResult.GetValue(_html) is { } htmlPath)
        {
            var gallery = new HtmlGallery($"vlm2vec search: {Describe(text, image)}");
            gallery.AddParagraph($"Model {encoder.Info.ModelId} ({encoder.Info.Dimension}-d); store {Path.GetFullPath(storePath)}, collection '{collection}'.");
            gallery.AddQuery("Query", instruction is null ? text : $"{instruction} {text}".Trim(), image is null ? null : Path.GetFullPath(image));
            gallery.AddCards(hits.Select(hit => new GalleryCard
            {
                Title = hit.Item.Key,
                ImagePath = hit.Item.Kind == "image" ? hit.Item.Path : null,
                Text = hit.Item.Kind == "image" ? null : hit.Item.Preview,
                Rank = hit.Rank,
                Score = hit.Score,
            }));
            await gallery.WriteAsync(htmlPath, cancellationToken).ConfigureAwait(false);
            context.WriteStatus(new Markup($"Gallery: [bold]{Markup.Escape(Path.GetFullPath(htmlPath))}[/]\n"));
        }

        return ExitCodes.Success;
    }

    internal static Table HitTable(IReadOnlyList<SearchHit> hits, string title)
    {
        var table = new Table().Title(Markup.Escape(title))
            .AddColumn(new TableColumn("rank").RightAligned())
            .AddColumn(new TableColumn("score").RightAligned())
            .AddColumn("path")
            .AddColumn("kind")
            .AddColumn("preview");
        foreach (var hit in hits)
        {
            table.AddRow(
                hit.Rank.ToString(CultureInfo.InvariantCulture),
                hit.Score.ToString("0.0000", CultureInfo.InvariantCulture),
                Markup.Escape(hit.Item.Key),
                hit.Item.Kind,
                Markup.Escape(hit.Item.Preview));
        }

        if (hits.Count == 0)
        {
            table.Caption("the collection is empty");
        }

        return table;
    }

    private static string Describe(string? text, string? image) =>
        (text, image) switch
        {
            ({ Length: > 0 } t, null) => $"\"{t}\"",
            (null or "", { } i) => Path.GetFileName(i),
            _ => $"{Path.GetFileName(image)} + \"{text}\"",
        };

    private static string Json(Vlm2VecModelInfo model, string collection, string? text, string? image, string? instruction, IReadOnlyList<SearchHit> hits)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model.ModelId);
            writer.WriteString("collection", collection);
            writer.WriteStartObject("query");
            writer.WriteString("text", text);
            writer.WriteString("image", image);
            writer.WriteString("instruction", instruction);
            writer.WriteEndObject();
            writer.WriteStartArray("hits");
            foreach (var hit in hits)
            {
                writer.WriteStartObject();
                writer.WriteNumber("rank", hit.Rank);
                writer.WriteNumber("score", hit.Score);
                writer.WriteString("key", hit.Item.Key);
                writer.WriteString("path", hit.Item.Path);
                writer.WriteString("kind", hit.Item.Kind);
                writer.WriteString("preview", hit.Item.Preview);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
