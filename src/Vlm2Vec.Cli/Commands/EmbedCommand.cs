using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Vlm2Vec.Cli.Output;
using Vlm2Vec.Cli.Search;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec embed --model &lt;folder&gt; (--text T | --image path | --input file.jsonl)</c>: embeds one input given
/// on the command line, or one per line of a JSON Lines file, and writes the vectors as JSON Lines or a float32
/// <c>.npy</c> matrix. Bad lines are reported with their line numbers; <c>--bad-rows skip</c> embeds the rest.
/// </summary>
internal sealed class EmbedCommand : VerbCommand
{
    private readonly Option<string> _model = new("--model", "-m")
    {
        Description = "The model: a vlm2vec model bundle folder or a Hugging Face checkpoint folder.",
        HelpName = "folder",
        Required = true,
    };

    private readonly Option<string> _text = new("--text", "-t")
    {
        Description = "The text to embed.",
        HelpName = "text",
    };

    private readonly Option<string> _image = new("--image")
    {
        Description = "The image file to embed (with --text: one image-and-text input).",
        HelpName = "path",
    };

    private readonly Option<string> _instruction = new("--instruction", "-i")
    {
        Description = "The instruction (default none; with --input, the default for lines without one).",
        HelpName = "text",
    };

    private readonly Option<string> _role = new("--role")
    {
        Description = "query or target (with --input, the default for lines without one).",
        HelpName = "role",
        DefaultValueFactory = _ => "query",
    };

    private readonly Option<string> _input = new("--input")
    {
        Description = "A JSON Lines file, one input per line: {\"text\", \"image\", \"instruction\", \"role\"}; image paths are relative to the file.",
        HelpName = "file.jsonl",
    };

    private readonly Option<string> _format = new("--format")
    {
        Description = "json (JSON Lines: index, dimension, embedding) or npy (float32 (n, d) matrix; needs --out). Default: npy when --out ends in .npy, else json.",
        HelpName = "format",
    };

    private readonly Option<string> _out = new("--out", "-o")
    {
        Description = "The output file (default: stdout for json).",
        HelpName = "file",
    };

    private readonly Option<string> _badRows = new("--bad-rows")
    {
        Description = "fail: stop on a bad line or image (exit code 3) and write nothing; skip: report and count it, embed the rest.",
        HelpName = "mode",
        DefaultValueFactory = _ => "fail",
    };

    private readonly Option<int> _batchSize = new("--batch-size")
    {
        Description = "Inputs per encoder batch.",
        HelpName = "N",
        DefaultValueFactory = _ => 16,
    };

    public EmbedCommand(CliRun run)
        : base("embed", "Embed a text, an image, or a JSON Lines file of inputs; write the vectors as JSON or .npy.", run)
    {
        _role.AcceptOnlyFromAmong("query", "target");
        _format.AcceptOnlyFromAmong("json", "npy");
        _badRows.AcceptOnlyFromAmong("fail", "skip");
        Options.Add(_model);
        Options.Add(_text);
        Options.Add(_image);
        Options.Add(_instruction);
        Options.Add(_role);
        Options.Add(_input);
        Options.Add(_format);
        Options.Add(_out);
        Options.Add(_badRows);
        Options.Add(_batchSize);
    }

    public override string HelpEpilogue =>
        """
        JSON output is one object per embedded input: {"index", "line" (with --input), "dimension", "embedding"}. The .npy
        output is a float32 (n, d) matrix in input order (skipped lines leave no row; stderr lists them).

        Examples:
          vlm2vec embed --model ./bundle --text "a dog on a beach" --instruction "Find an image that matches the given text."
          vlm2vec embed -m ./bundle --image cat.jpg --role target
          vlm2vec embed -m ./bundle --input items.jsonl --out items.npy --bad-rows skip
        """;

    protected override async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var text = parseResult.GetValue(_text);
        var image = parseResult.GetValue(_image);
        var inputFile = parseResult.GetValue(_input);
        var outPath = parseResult.GetValue(_out);
        var skip = parseResult.GetValue(_badRows) == "skip";
        var batchSize = parseResult.GetValue(_batchSize);
        var format = parseResult.GetValue(_format)
            ?? (outPath is not null && outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? "npy" : "json");
        if (inputFile is not null && (text is not null || image is not null))
        {
            throw new CliUsageException("Give either --input or --text/--image, not both.");
        }

        if (inputFile is null && string.IsNullOrEmpty(text) && image is null)
        {
            throw new CliUsageException("Give something to embed: --text, --image, or --input file.jsonl.");
        }

        if (format == "npy" && outPath is null)
        {
            throw new CliUsageException("--format npy writes a binary file: give --out file.npy.");
        }

        if (batchSize <= 0)
        {
            throw new CliUsageException($"--batch-size must be positive, not {batchSize}.");
        }

        var role = EmbedInputFile.ParseRole(parseResult.GetValue(_role) ?? "query");
        var instruction = parseResult.GetValue(_instruction);
        var bad = new List<IndexFailure>();
        IReadOnlyList<EmbedRequest> requests;
        if (inputFile is not null)
        {
            requests = EmbedInputFile.Read(inputFile, role, instruction, bad);
            ThrowIfFailing(bad, inputFile, skip);
        }
        else
        {
            if (image is not null && !File.Exists(image))
            {
                throw new FileNotFoundException($"Image '{image}' does not exist.", image);
            }

            requests =
            [
                new EmbedRequest(0, new MultimodalInput
                {
                    Text = string.IsNullOrEmpty(text) ? null : text,
                    Images = image is null ? [] : [ImageInput.FromFile(image)],
                    Instruction = instruction,
                    Role = role,
                }),
            ];
        }

        using var encoder = ModelLoader.Open(parseResult.GetRequiredValue(_model), context.Environment, context.LoggerFactory);
        var embedder = new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = batchSize }, EmbedderLogging.For(context));
        var results = await context.WithProgressAsync(ProgressUnit.Items, async view =>
        {
            var bar = requests.Count > 1 ? view.Add($"embedding {requests.Count} input(s)", requests.Count) : null;
            var all = new List<EmbeddingItemResult>(requests.Count);
            for (var start = 0; start < requests.Count; start += 256)
            {
                var chunk = requests.Skip(start).Take(256).Select(r => r.Input).ToList();
                all.AddRange(await embedder.EmbedEachAsync(chunk, cancellationToken).ConfigureAwait(false));
                bar?.Update(all.Count);
            }

            bar?.Complete();
            return all;
        }).ConfigureAwait(false);

        var rows = new List<(EmbedRequest Request, float[] Vector)>(requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            if (results[i].Embedding is { } vector)
            {
                rows.Add((requests[i], vector));
            }
            else
            {
                var reason = results[i].Error?.InnerException?.Message ?? results[i].Error?.Message ?? "not embedded";
                bad.Add(new IndexFailure(requests[i].Line > 0 ? $"line {requests[i].Line}" : "the input", reason));
            }
        }

        if (inputFile is null && bad.Count > 0)
        {
            throw results[0].Error?.InnerException ?? (Exception)new InvalidInputException(bad[0].Reason);
        }

        bad.Sort((a, b) => LineOf(a).CompareTo(LineOf(b)));
        ThrowIfFailing(bad, inputFile ?? string.Empty, skip);
        await WriteAsync(context, format, outPath, rows, encoder.Info.Dimension, inputFile is not null, cancellationToken).ConfigureAwait(false);

        foreach (var skipped in bad)
        {
            context.Error.Write(new Text($"warning: skipped {skipped.Key}: {skipped.Reason}\n", new Style(Color.Yellow)));
        }

        var where = outPath is null ? string.Empty : $" to {Markup.Escape(Path.GetFullPath(outPath))}";
        context.WriteStatus(new Markup(
            $"Embedded {rows.Count.ToString(CultureInfo.InvariantCulture)} input(s) ({encoder.Info.Dimension.ToString(CultureInfo.InvariantCulture)}-d, {Markup.Escape(encoder.Info.ModelId)}){where}" +
            (bad.Count > 0 ? $"; skipped {bad.Count.ToString(CultureInfo.InvariantCulture)} bad line(s)" : string.Empty) + "\n"));
        return ExitCodes.Success;
    }

    private static int LineOf(IndexFailure failure) =>
        int.TryParse(failure.Key.AsSpan(failure.Key.LastIndexOf(' ') + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var line) ? line : 0;

    /// <summary>In fail mode, one error naming every bad line.</summary>
    private static void ThrowIfFailing(List<IndexFailure> bad, string file, bool skip)
    {
        if (bad.Count == 0 || skip)
        {
            return;
        }

        var shown = string.Join("; ", bad.Take(5).Select(b => $"{b.Key}: {b.Reason}"));
        var more = bad.Count > 5 ? $"; and {bad.Count - 5} more" : string.Empty;
        throw new InvalidInputException(
            $"{bad.Count} bad input(s) in '{file}' ({shown}{more}). Nothing was written: fix them, or pass --bad-rows skip to embed the rest.");
    }

    private static async Task WriteAsync(CliContext context, string format, string? outPath, List<(EmbedRequest Request, float[] Vector)> rows, int dimension, bool withLines, CancellationToken cancellationToken)
    {
        if (outPath is not null && Path.GetDirectoryName(Path.GetFullPath(outPath)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        if (format == "npy")
        {
            await using var file = File.Create(outPath!);
            NpyWriter.WriteFloat32Matrix(file, rows.Select(r => r.Vector).ToList(), dimension);
            return;
        }

        // One line per input, streamed: a large input file never becomes one string in memory.
        var writer = outPath is null ? context.Environment.Out : new StreamWriter(outPath, append: false, new UTF8Encoding(false));
        try
        {
            using var buffer = new MemoryStream();
            for (var i = 0; i < rows.Count; i++)
            {
                buffer.SetLength(0);
                using (var json = new Utf8JsonWriter(buffer))
                {
                    json.WriteStartObject();
                    json.WriteNumber("index", i);
                    if (withLines)
                    {
                        json.WriteNumber("line", rows[i].Request.Line);
                    }

                    json.WriteNumber("dimension", rows[i].Vector.Length);
                    json.WriteStartArray("embedding");
                    foreach (var value in rows[i].Vector)
                    {
                        json.WriteNumberValue(value);
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                await writer.WriteAsync(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length).AsMemory(), cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync("\n".AsMemory(), cancellationToken).ConfigureAwait(false);
            }

            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (outPath is not null)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
