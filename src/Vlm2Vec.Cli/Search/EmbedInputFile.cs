using System.Text.Json;

namespace Vlm2Vec.Cli.Search;

/// <summary>
/// Reads the JSON Lines input of <c>vlm2vec embed --input</c>: one object per line with <c>text</c>, <c>image</c> (a
/// path, relative to the file's folder), <c>instruction</c> and <c>role</c> (<c>query</c> or <c>target</c>). Blank
/// lines are ignored; each bad line is reported with its line number and the others are still read.
/// </summary>
internal static class EmbedInputFile
{
    /// <summary>Reads <paramref name="path"/>; lines that are not valid inputs go to <paramref name="bad"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IReadOnlyList<EmbedRequest> Read(string path, EmbeddingRole defaultRole, string? defaultInstruction, List<IndexFailure> bad)
    {
        ArgumentNullException.ThrowIfNull(bad);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Input file '{path}' does not exist.", path);
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var requests = new List<EmbedRequest>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                requests.Add(new EmbedRequest(lineNumber, Parse(line, folder, defaultRole, defaultInstruction)));
            }
            catch (Exception ex) when (ex is JsonException or InvalidInputException)
            {
                bad.Add(new IndexFailure($"line {lineNumber}", ex is JsonException ? $"not valid JSON ({JsonError(ex.Message)})" : ex.Message));
            }
        }

        return requests;
    }

    /// <summary>The role named <paramref name="value"/> (query or target).</summary>
    /// <exception cref="InvalidInputException">Another word.</exception>
    public static EmbeddingRole ParseRole(string value) => value.ToLowerInvariant() switch
    {
        "query" => EmbeddingRole.Query,
        "target" => EmbeddingRole.Target,
        _ => throw new InvalidInputException($"Role '{value}' is not one of query, target."),
    };

    private static MultimodalInput Parse(string line, string folder, EmbeddingRole defaultRole, string? defaultInstruction)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException("a line must be a JSON object {\"text\", \"image\", \"instruction\", \"role\"}.");
        }

        var text = String(root, "text");
        var image = String(root, "image");
        var instruction = String(root, "instruction") ?? defaultInstruction;
        var role = String(root, "role") is { } roleName ? ParseRole(roleName) : defaultRole;
        if (string.IsNullOrEmpty(text) && string.IsNullOrEmpty(image))
        {
            throw new InvalidInputException("the line has neither \"text\" nor \"image\": at least one is required.");
        }

        ImageInput[] images = [];
        if (!string.IsNullOrEmpty(image))
        {
            var full = Path.Combine(folder, image);
            if (!File.Exists(full))
            {
                throw new InvalidInputException($"image '{image}' does not exist (paths are relative to the input file's folder).");
            }

            images = [ImageInput.FromFile(full)];
        }

        return new MultimodalInput { Text = string.IsNullOrEmpty(text) ? null : text, Images = images, Instruction = instruction, Role = role };
    }

    /// <summary>System.Text.Json's message without its position suffix (the line is reported instead).</summary>
    private static string JsonError(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

    private static string? String(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new InvalidInputException($"\"{name}\" must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}.");
    }
}
