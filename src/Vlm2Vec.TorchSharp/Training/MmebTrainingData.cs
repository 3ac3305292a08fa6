using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// Reads MMEB-train style JSON lines (spec §2.2) into <see cref="ContrastiveExample"/>s: <c>qry</c> and
/// <c>qry_image_path</c>, <c>pos_text</c> and <c>pos_image_path</c>, optional <c>neg_text</c> / <c>neg_image_path</c>
/// (a string or parallel lists), and an optional <c>dataset</c> name.
/// </summary>
/// <remarks>
/// Texts are used verbatim as VLM2Vec's V1 training does (<see cref="MultimodalInput.Prompt"/>), with MMEB's
/// <c>&lt;|image_1|&gt;</c> standing for the image. A row with an image whose text has no placeholder is formatted as
/// image + text (<see cref="PromptFormatter"/>); a text-only row that spells the placeholder keeps it as an ordinary token
/// (the WebQA/EDIS quirk). Image paths are resolved against <see cref="MmebJsonlReadOptions.ImageRoot"/> and must
/// exist; decoding happens during training, where an undecodable image is handled by the same bad-row policy.
/// </remarks>
public static class MmebTrainingData
{
    /// <summary>Reads one file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="TrainingDataException">An unusable row under <see cref="BadRowPolicy.Fail"/>.</exception>
    public static TrainingDataReadResult ReadJsonl(string path, MmebJsonlReadOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new MmebJsonlReadOptions();
        logger ??= NullLogger.Instance;
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"Training data file '{path}' does not exist.", full);
        }

        var imageRoot = Path.GetFullPath(options.ImageRoot ?? Path.GetDirectoryName(full)!);
        var dataset = options.Dataset ?? Path.GetFileNameWithoutExtension(full);
        var fileName = Path.GetFileName(full);
        var examples = new List<ContrastiveExample>();
        var skipped = new List<string>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(full))
        {
            lineNumber++;
            var source = string.Create(CultureInfo.InvariantCulture, $"{fileName}:{lineNumber}");
            try
            {
                examples.Add(ParseRow(line, source, imageRoot, dataset));
            }
            catch (TrainingDataException ex) when (options.BadRows == BadRowPolicy.Skip)
            {
                skipped.Add(ex.Message);
                TrainingLog.BadRowSkipped(logger, source, ex.Reason ?? ex.Message);
            }
        }

        if (skipped.Count > 0)
        {
            TrainingLog.RowsSkippedAtLoad(logger, skipped.Count, skipped[0]);
        }

        return new TrainingDataReadResult { Examples = examples, Skipped = skipped };
    }

    private static ContrastiveExample ParseRow(string line, string source, string imageRoot, string defaultDataset)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            throw new TrainingDataException(source, "the line is empty.");
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(line);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new TrainingDataException(source, $"not valid JSON ({ex.Message}).", ex);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new TrainingDataException(source, "a row must be a JSON object with qry/qry_image_path and pos_text/pos_image_path.");
        }

        var query = Input(source, "qry", Text(root, "qry", source), Image(root, "qry_image_path", source, imageRoot), EmbeddingRole.Query)
            ?? throw new TrainingDataException(source, "the query is empty (no qry text and no qry_image_path).");
        var positive = Input(source, "pos_text", Text(root, "pos_text", source), Image(root, "pos_image_path", source, imageRoot), EmbeddingRole.Target)
            ?? throw new TrainingDataException(source, "the positive is empty (no pos_text and no pos_image_path).");

        var negativeTexts = TextList(root, "neg_text", source);
        var negativeImages = TextList(root, "neg_image_path", source);
        var negatives = new List<MultimodalInput>();
        for (var k = 0; k < Math.Max(negativeTexts.Count, negativeImages.Count); k++)
        {
            var text = k < negativeTexts.Count ? negativeTexts[k] : null;
            var image = k < negativeImages.Count ? ResolveImage(negativeImages[k], source, "neg_image_path", imageRoot) : null;
            if (Input(source, "neg_text", text, image, EmbeddingRole.Target) is { } negative)
            {
                negatives.Add(negative);
            }
        }

        var dataset = root.TryGetProperty("dataset", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : defaultDataset;
        return new ContrastiveExample { Query = query, Positive = positive, Negatives = negatives, Dataset = dataset, Source = source };
    }

    private static MultimodalInput? Input(string source, string field, string? text, ImageInput? image, EmbeddingRole role)
    {
        var hasText = !string.IsNullOrEmpty(text);
        if (!hasText && image is null)
        {
            return null;
        }

        if (image is null)
        {
            return new MultimodalInput { Prompt = text, Role = role, KeepStrayPlaceholders = true };
        }

        if (!hasText)
        {
            return new MultimodalInput { Images = [image], Role = role };
        }

        var placeholders = CountPlaceholders(text!);
        if (placeholders > 1)
        {
            throw new TrainingDataException(source, $"{field} has {placeholders} image placeholders but the row has one image.");
        }

        return placeholders == 1
            ? new MultimodalInput { Prompt = text, Images = [image], Role = role }
            : new MultimodalInput { Text = text, Images = [image], Role = role };
    }

    private static int CountPlaceholders(string text)
    {
        var count = 0;
        for (var at = text.IndexOf(PromptFormatter.MmebImagePlaceholder, StringComparison.Ordinal); at >= 0;
             at = text.IndexOf(PromptFormatter.MmebImagePlaceholder, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string? Text(JsonElement root, string name, string source) =>
        !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new TrainingDataException(source, $"'{name}' must be a string, not {value.ValueKind}.");

    private static List<string?> TextList(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new TrainingDataException(source, $"'{name}' must be a string or a list of strings, not {value.ValueKind}.");
        }

        var list = new List<string?>();
        foreach (var item in value.EnumerateArray())
        {
            list.Add(item.ValueKind switch
            {
                JsonValueKind.String => item.GetString(),
                JsonValueKind.Null => null,
                _ => throw new TrainingDataException(source, $"'{name}' must hold strings, not {item.ValueKind}."),
            });
        }

        return list;
    }

    private static ImageInput? Image(JsonElement root, string name, string source, string imageRoot) =>
        ResolveImage(Text(root, name, source), source, name, imageRoot);

    private static ImageInput? ResolveImage(string? relative, string source, string field, string imageRoot)
    {
        if (string.IsNullOrWhiteSpace(relative))
        {
            return null;
        }

        var path = Path.GetFullPath(Path.Combine(imageRoot, relative));
        return File.Exists(path)
            ? ImageInput.FromFile(path)
            : throw new TrainingDataException(source, $"{field} '{relative}' does not exist (looked for '{path}').");
    }
}
