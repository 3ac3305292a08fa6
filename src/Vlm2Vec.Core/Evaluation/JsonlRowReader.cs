using System.Text.Json;

namespace Vlm2Vec.Evaluation;

/// <summary>Reads MMEB-eval rows from a JSON Lines file: one JSON object per line, blank lines ignored.</summary>
internal static class JsonlRowReader
{
    /// <summary>One line: the row's fields, or why the line is not a JSON object.</summary>
    internal readonly record struct Line(RawRow Row, string? Problem);

    public static IEnumerable<Line> Read(string path, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var number = 0;
        while (reader.ReadLine() is { } text)
        {
            number++;
            cancellationToken.ThrowIfCancellationRequested();
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            yield return Parse(path, number, text);
        }
    }

    private static Line Parse(string path, int number, string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            return new Line(new RawRow(path, number, default, default, default, default), $"the line is not valid JSON ({ex.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new Line(new RawRow(path, number, default, default, default, default), $"the line is {Describe(root.ValueKind)}, not a JSON object with the fields qry_text, qry_img_path, tgt_text, tgt_img_path");
            }

            return new Line(
                new RawRow(
                    path,
                    number,
                    Field(root, RawRow.QueryTextField),
                    Field(root, RawRow.QueryImageField),
                    Field(root, RawRow.TargetTextField),
                    Field(root, RawRow.TargetImageField)),
                null);
        }
    }

    private static RawField Field(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return RawField.Missing;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return RawField.Null;
            case JsonValueKind.String:
                return RawField.FromString(value.GetString()!);
            case JsonValueKind.Array:
                var items = new string?[value.GetArrayLength()];
                Dictionary<int, string>? problems = null;
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        items[i] = item.GetString();
                    }
                    else if (item.ValueKind != JsonValueKind.Null)
                    {
                        (problems ??= [])[i] = Describe(item.ValueKind);
                    }

                    i++;
                }

                return RawField.FromList(items, problems);
            default:
                return RawField.FromOther(Describe(value.ValueKind));
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };
}
