namespace Vlm2Vec.Evaluation;

/// <summary>
/// Checks a raw row against the MMEB-eval row format (spec §2.2) and builds the <see cref="MmebEvalRow"/>, or says what is
/// wrong: which field, and what is allowed. Image files are checked for existence when asked.
/// </summary>
internal sealed class RowValidator
{
    private readonly string _imageRoot;
    private readonly bool _checkImages;
    private readonly Dictionary<string, bool> _seenImages = new(StringComparer.Ordinal);

    public RowValidator(string imageRoot, bool checkImages)
    {
        _imageRoot = imageRoot;
        _checkImages = checkImages;
    }

    /// <summary>Validates <paramref name="raw"/>; on failure returns null and the problem (field and message).</summary>
    public MmebEvalRow? Validate(in RawRow raw, out string? field, out string? problem)
    {
        field = null;
        problem = null;
        if (!TryString(raw.QueryText, RawRow.QueryTextField, allowNull: false, out var queryText, ref field, ref problem)
            || !TryString(raw.QueryImagePath, RawRow.QueryImageField, allowNull: true, out var queryImage, ref field, ref problem))
        {
            return null;
        }

        if (!TryList(raw.TargetTexts, RawRow.TargetTextField, allowNullItems: false, out var targetTexts, ref field, ref problem)
            || !TryList(raw.TargetImagePaths, RawRow.TargetImageField, allowNullItems: true, out var targetImages, ref field, ref problem))
        {
            return null;
        }

        if (targetTexts.Length == 0)
        {
            return Fail(RawRow.TargetTextField, "'tgt_text' is an empty list: every row needs at least its positive candidate (element 0)", out field, out problem);
        }

        if (targetImages.Length != targetTexts.Length)
        {
            return Fail(
                RawRow.TargetImageField,
                $"'tgt_img_path' has {targetImages.Length} entries but 'tgt_text' has {targetTexts.Length}: the two lists are parallel, one image path (or \"\") per candidate",
                out field,
                out problem);
        }

        if (queryText.Length == 0 && queryImage.Length == 0)
        {
            return Fail(RawRow.QueryTextField, "the query has neither text ('qry_text' is \"\") nor an image ('qry_img_path' is \"\"): one of them is required", out field, out problem);
        }

        for (var j = 0; j < targetTexts.Length; j++)
        {
            if (targetTexts[j].Length == 0 && targetImages[j].Length == 0)
            {
                return Fail(
                    $"{RawRow.TargetTextField}[{j}]",
                    $"candidate {j} has neither text ('tgt_text[{j}]' is \"\") nor an image ('tgt_img_path[{j}]' is \"\"): one of them is required",
                    out field,
                    out problem);
            }
        }

        if (_checkImages)
        {
            if (queryImage.Length > 0 && !ImageExists(queryImage))
            {
                return Fail(RawRow.QueryImageField, MissingImage(queryImage, RawRow.QueryImageField), out field, out problem);
            }

            for (var j = 0; j < targetImages.Length; j++)
            {
                if (targetImages[j].Length > 0 && !ImageExists(targetImages[j]))
                {
                    var name = $"{RawRow.TargetImageField}[{j}]";
                    return Fail(name, MissingImage(targetImages[j], name), out field, out problem);
                }
            }
        }

        return new MmebEvalRow
        {
            QueryText = queryText,
            QueryImagePath = queryImage,
            TargetTexts = targetTexts,
            TargetImagePaths = targetImages,
            LineNumber = raw.LineNumber,
            SourcePath = raw.SourcePath,
        };
    }

    private string MissingImage(string path, string field) =>
        $"image file '{path}' ('{field}') does not exist under the image root '{_imageRoot}'. " +
        "Give the folder the image paths are relative to (MmebDataLoadOptions.ImageRoot, --image-root)";

    private bool ImageExists(string path)
    {
        if (!_seenImages.TryGetValue(path, out var exists))
        {
            var full = Path.IsPathRooted(path) ? path : Path.Combine(_imageRoot, path);
            exists = File.Exists(full);
            _seenImages[path] = exists;
        }

        return exists;
    }

    private static bool TryString(in RawField value, string name, bool allowNull, out string text, ref string? field, ref string? problem)
    {
        text = string.Empty;
        switch (value.Kind)
        {
            case RawFieldKind.String:
                text = value.Text!;
                return true;
            case RawFieldKind.Null when allowNull:
                return true;
            case RawFieldKind.Missing:
                field = name;
                problem = name == RawRow.QueryImageField
                    ? "field 'qry_img_path' is missing: give the query image path, or \"\" for a text-only query"
                    : $"field '{name}' is missing: every row needs the query string";
                return false;
            default:
                field = name;
                problem = $"'{name}' must be a string{(allowNull ? " (or null)" : string.Empty)}, but it is {value.Describe()}";
                return false;
        }
    }

    private static bool TryList(in RawField value, string name, bool allowNullItems, out string[] items, ref string? field, ref string? problem)
    {
        items = [];
        if (value.Kind == RawFieldKind.Missing)
        {
            field = name;
            problem = name == RawRow.TargetTextField
                ? "field 'tgt_text' is missing: every row needs its list of candidate strings, positive first"
                : "field 'tgt_img_path' is missing: every row needs its list of candidate image paths (\"\" for none), parallel to 'tgt_text'";
            return false;
        }

        if (value.Kind != RawFieldKind.List)
        {
            field = name;
            problem = $"'{name}' must be a list of strings, but it is {value.Describe()}";
            return false;
        }

        var source = value.Items!;
        items = new string[source.Count];
        for (var j = 0; j < source.Count; j++)
        {
            if (value.ItemProblems is { } problems && problems.TryGetValue(j, out var kind))
            {
                field = $"{name}[{j}]";
                problem = $"'{name}[{j}]' must be a string, but it is {kind}";
                return false;
            }

            var item = source[j];
            if (item is null && !allowNullItems)
            {
                field = $"{name}[{j}]";
                problem = $"'{name}[{j}]' is null: candidate strings must be strings (\"\" only when the candidate has an image)";
                return false;
            }

            items[j] = item ?? string.Empty;
        }

        return true;
    }

    private static MmebEvalRow? Fail(string name, string message, out string? field, out string? problem)
    {
        field = name;
        problem = message;
        return null;
    }
}
