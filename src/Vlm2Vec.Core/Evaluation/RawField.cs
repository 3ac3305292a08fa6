namespace Vlm2Vec.Evaluation;

/// <summary>The kind of value a data file holds for one field, before validation.</summary>
internal enum RawFieldKind
{
    Missing,
    Null,
    String,
    List,
    Other,
}

/// <summary>
/// One field of a row as the file holds it (JSONL or parquet), so that both formats share one validator and one set of
/// error messages. List items that are not strings are kept as null in <see cref="Items"/> with their kind described in
/// <see cref="ItemProblems"/>.
/// </summary>
internal readonly record struct RawField(RawFieldKind Kind, string? Text = null, IReadOnlyList<string?>? Items = null, string? Description = null, IReadOnlyDictionary<int, string>? ItemProblems = null)
{
    public static RawField Missing => new(RawFieldKind.Missing);

    public static RawField Null => new(RawFieldKind.Null);

    public static RawField FromString(string value) => new(RawFieldKind.String, value);

    public static RawField FromList(IReadOnlyList<string?> items, IReadOnlyDictionary<int, string>? problems = null) =>
        new(RawFieldKind.List, Items: items, ItemProblems: problems);

    public static RawField FromOther(string description) => new(RawFieldKind.Other, Description: description);

    /// <summary>How the value is described in an error ("a number", "a list", "null").</summary>
    public string Describe() => Kind switch
    {
        RawFieldKind.Missing => "nothing",
        RawFieldKind.Null => "null",
        RawFieldKind.String => "a string",
        RawFieldKind.List => $"a list of {Items!.Count}",
        _ => Description ?? "another type",
    };
}
