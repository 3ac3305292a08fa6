using System.Collections;
using Parquet.Serialization;

namespace Vlm2Vec.Evaluation;

/// <summary>
/// Reads MMEB-eval rows from a parquet file (the Hugging Face <c>TIGER-Lab/MMEB-eval</c> layout: string columns
/// <c>qry_text</c>, <c>qry_img_path</c> and list-of-string columns <c>tgt_text</c>, <c>tgt_img_path</c>; other columns are
/// ignored) with Parquet.Net's untyped reader. Row numbers are 1-based across row groups.
/// </summary>
internal static class ParquetRowReader
{
    private static readonly string[] Required = [RawRow.QueryTextField, RawRow.QueryImageField, RawRow.TargetTextField, RawRow.TargetImageField];

    public static async Task<IReadOnlyList<RawRow>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        DeserializationResult<Dictionary<string, object>> table;
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            table = await ParquetSerializer.DeserializeUntypedAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not IOException and not UnauthorizedAccessException)
        {
            throw new EvaluationDataException($"{path}: not a readable parquet file ({ex.Message}).", path, 0, null, ex);
        }

        var columns = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in table.Schema.Fields)
        {
            columns.Add(field.Name);
        }

        foreach (var name in Required)
        {
            if (!columns.Contains(name))
            {
                throw new EvaluationDataException(
                    $"{path}: the parquet file has no column '{name}' (it has {string.Join(", ", columns.Order(StringComparer.Ordinal))}). " +
                    "MMEB-eval files have qry_text, qry_img_path (strings) and tgt_text, tgt_img_path (lists of strings).",
                    path,
                    0,
                    name);
            }
        }

        var rows = new RawRow[table.Data.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var data = table.Data[i];
            rows[i] = new RawRow(
                path,
                i + 1,
                Field(data, RawRow.QueryTextField),
                Field(data, RawRow.QueryImageField),
                Field(data, RawRow.TargetTextField),
                Field(data, RawRow.TargetImageField));
        }

        return rows;
    }

    private static RawField Field(Dictionary<string, object> row, string name)
    {
        if (!row.TryGetValue(name, out var value) || value is null)
        {
            return RawField.Null;
        }

        if (AsString(value) is { } text)
        {
            return RawField.FromString(text);
        }

        if (value is IEnumerable items)
        {
            var list = new List<string?>();
            Dictionary<int, string>? problems = null;
            foreach (var item in items)
            {
                if (item is not null && AsString(item) is null)
                {
                    (problems ??= [])[list.Count] = $"a {item.GetType().Name}";
                }

                list.Add(item is null ? null : AsString(item));
            }

            return RawField.FromList(list, problems);
        }

        return RawField.FromOther($"a {value.GetType().Name}");
    }

    private static string? AsString(object value) => value switch
    {
        string s => s,
        ReadOnlyMemory<char> memory => memory.ToString(),
        char[] chars => new string(chars),
        _ => null,
    };
}
