using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// <c>vlm2vec train --config file.json</c>: the file's keys are option names without the leading dashes; each value
/// (string, number, boolean, or a list for repeatable options) becomes command-line tokens for the options the command
/// line did not give, and the line is parsed again, so the file goes through the very same parsing and checks.
/// Relative paths in the file are taken relative to the file's folder.
/// </summary>
internal static class TrainConfigFile
{
    /// <summary>Option names whose values are paths.</summary>
    private static readonly HashSet<string> PathOptions = new(StringComparer.Ordinal)
    {
        "data", "image-root", "model", "adapter", "init-config", "tokenizer", "output",
    };

    public static ParseResult Merge(ParseResult parseResult, string configPath, IEnumerable<Option> options)
    {
        var full = Path.GetFullPath(configPath);
        if (!File.Exists(full))
        {
            throw new CliUsageException($"--config '{configPath}' does not exist.");
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(full), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"--config '{configPath}' is not valid JSON: {ex.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CliUsageException($"--config '{configPath}' must hold a JSON object of options.");
        }

        var byName = options.ToDictionary(o => o.Name.TrimStart('-'), StringComparer.Ordinal);
        var folder = Path.GetDirectoryName(full)!;
        var extra = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            if (!byName.TryGetValue(property.Name, out var option) || property.Name == "config")
            {
                throw new CliUsageException(
                    $"--config '{configPath}': unknown option '{property.Name}'. Keys are the option names of 'vlm2vec train --help' without '--'.");
            }

            var given = parseResult.GetResult(option);
            if (given is { Implicit: false })
            {
                continue; // the command line wins
            }

            foreach (var value in Values(property, configPath))
            {
                if (option.ValueType == typeof(bool))
                {
                    extra.Add(option.Name);
                    extra.Add(value);
                    continue;
                }

                extra.Add(option.Name);
                extra.Add(PathOptions.Contains(property.Name) && !Path.IsPathRooted(value) ? Path.GetFullPath(Path.Combine(folder, value)) : value);
            }
        }

        var tokens = parseResult.Tokens.Select(t => t.Value).ToList();
        return parseResult.RootCommandResult.Command.Parse([.. tokens, .. extra]);
    }

    private static IEnumerable<string> Values(JsonProperty property, string configPath)
    {
        var value = property.Value;
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                yield return value.GetString()!;
                break;
            case JsonValueKind.Number:
                yield return value.GetRawText();
                break;
            case JsonValueKind.True:
                yield return "true";
                break;
            case JsonValueKind.False:
                yield return "false";
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    yield return item.ValueKind switch
                    {
                        JsonValueKind.String => item.GetString()!,
                        JsonValueKind.Number => item.GetRawText(),
                        _ => throw new CliUsageException($"--config '{configPath}': '{property.Name}' must list strings or numbers."),
                    };
                }

                break;
            case JsonValueKind.Null:
                yield break;
            default:
                throw new CliUsageException(string.Create(CultureInfo.InvariantCulture, $"--config '{configPath}': '{property.Name}' has an unsupported value ({value.ValueKind})."));
        }
    }
}
