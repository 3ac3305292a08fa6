using Microsoft.ML;
using Microsoft.ML.Data;

namespace Vlm2Vec.ML;

/// <summary>
/// Checks the input columns of a Vlm2Vec embedding step, on a schema or on a schema shape, with messages that name the
/// column, what it is and what is allowed. Failures are <see cref="ArgumentOutOfRangeException"/> on the schema
/// argument, as ML.NET's own schema mismatches are.
/// </summary>
internal static class ColumnChecks
{
    private const string DefaultStep = "EmbedWithVlm2Vec";

    /// <summary>The image column's kind on a schema.</summary>
    public static ImageSourceKind Check(DataViewSchema schema, string? imageColumn, string? textColumn, string? instructionColumn, string parameterName, string step = DefaultStep, string side = "")
    {
        var kind = ImageSourceKind.None;
        if (imageColumn is not null)
        {
            var column = Find(schema, imageColumn, side + "image", parameterName, step);
            kind = column.Type switch
            {
                VectorDataViewType { ItemType: var item } when item == NumberDataViewType.Byte => ImageSourceKind.EncodedBytes,
                TextDataViewType => ImageSourceKind.FilePath,
                _ => throw WrongImageType(imageColumn, column.Type.ToString() ?? column.Type.RawType.Name, parameterName, step, side),
            };
        }

        if (textColumn is not null)
        {
            RequireText(Find(schema, textColumn, side + "text", parameterName, step), side + "text", parameterName, step);
        }

        if (instructionColumn is not null)
        {
            RequireText(Find(schema, instructionColumn, "instruction", parameterName, step), "instruction", parameterName, step);
        }

        return kind;
    }

    /// <summary>The same checks on a schema shape (what <c>GetOutputSchema</c> of an estimator receives).</summary>
    public static ImageSourceKind Check(SchemaShape shape, string? imageColumn, string? textColumn, string? instructionColumn, string parameterName, string step = DefaultStep, string side = "")
    {
        var kind = ImageSourceKind.None;
        if (imageColumn is not null)
        {
            var column = Find(shape, imageColumn, side + "image", parameterName, step);
            var isVector = column.Kind is SchemaShape.Column.VectorKind.Vector or SchemaShape.Column.VectorKind.VariableVector;
            kind = (isVector, column.ItemType) switch
            {
                (true, var item) when item == NumberDataViewType.Byte && !column.IsKey => ImageSourceKind.EncodedBytes,
                (false, TextDataViewType) => ImageSourceKind.FilePath,
                _ => throw WrongImageType(imageColumn, Describe(column), parameterName, step, side),
            };
        }

        if (textColumn is not null)
        {
            RequireText(Find(shape, textColumn, side + "text", parameterName, step), side + "text", parameterName, step);
        }

        if (instructionColumn is not null)
        {
            RequireText(Find(shape, instructionColumn, "instruction", parameterName, step), "instruction", parameterName, step);
        }

        return kind;
    }

    private static DataViewSchema.Column Find(DataViewSchema schema, string name, string role, string parameterName, string step)
    {
        var column = schema.GetColumnOrNull(name);
        if (column is null)
        {
            var names = string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"));
            throw new ArgumentOutOfRangeException(parameterName, $"{step}: the {role} column '{name}' is not in the input (its columns: {names}).");
        }

        return column.Value;
    }

    private static SchemaShape.Column Find(SchemaShape shape, string name, string role, string parameterName, string step)
    {
        SchemaShape.Column? found = null;
        foreach (var candidate in shape)
        {
            if (candidate.Name == name)
            {
                found = candidate;
            }
        }

        if (found is not { } column)
        {
            var names = string.Join(", ", shape.Select(c => $"'{c.Name}'"));
            throw new ArgumentOutOfRangeException(parameterName, $"{step}: the {role} column '{name}' is not in the input (its columns: {names}).");
        }

        return column;
    }

    private static void RequireText(DataViewSchema.Column column, string role, string parameterName, string step)
    {
        if (column.Type is not TextDataViewType)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"{step}: the {role} column '{column.Name}' is {column.Type}; it must be String.");
        }
    }

    private static void RequireText(SchemaShape.Column column, string role, string parameterName, string step)
    {
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
        {
            throw new ArgumentOutOfRangeException(parameterName, $"{step}: the {role} column '{column.Name}' is {Describe(column)}; it must be String.");
        }
    }

    private static ArgumentOutOfRangeException WrongImageType(string name, string type, string parameterName, string step, string side) => new(
        parameterName,
        $"{step}: the {side}image column '{name}' is {type}; it must be Vector<Byte> holding an encoded image file (mlContext.Transforms.LoadRawImageBytes) " +
        "or String holding a file path. Image<…> columns from LoadImages are not accepted: Qwen2-VL resizes images its own way, from the original file.");

    private static string Describe(SchemaShape.Column column) => column.Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => column.IsKey ? $"Key<{column.ItemType}>" : $"{column.ItemType}",
        SchemaShape.Column.VectorKind.Vector => $"Vector<{column.ItemType}>",
        _ => $"Vector<{column.ItemType}> (variable size)",
    };
}
