using Microsoft.ML;
using Microsoft.ML.Data;

namespace Vlm2Vec.ML;

/// <summary>The checked pair columns of a fine-tuning input.</summary>
internal sealed record PairColumns(ImageSourceKind QueryImage, ImageSourceKind PositiveImage, bool NegativesAreVector)
{
    private const string Step = "FineTuneVlm2Vec";

    public static PairColumns Check(DataViewSchema schema, Vlm2VecFineTuningOptions options, string parameterName)
    {
        var query = ColumnChecks.Check(schema, options.QueryImageColumnName, options.QueryTextColumnName, null, parameterName, Step, "query ");
        var positive = ColumnChecks.Check(schema, options.PositiveImageColumnName, options.PositiveTextColumnName, null, parameterName, Step, "positive ");
        var vector = false;
        if (options.NegativesColumnName is { } negatives)
        {
            var column = schema.GetColumnOrNull(negatives)
                ?? throw new ArgumentOutOfRangeException(parameterName, $"{Step}: the negatives column '{negatives}' is not in the input.");
            vector = column.Type switch
            {
                TextDataViewType => false,
                VectorDataViewType { ItemType: TextDataViewType } => true,
                _ => throw new ArgumentOutOfRangeException(parameterName, $"{Step}: the negatives column '{negatives}' is {column.Type}; it must be String or a vector of String (hard-negative texts)."),
            };
        }

        return new PairColumns(query, positive, vector);
    }

    public static void Check(SchemaShape shape, Vlm2VecFineTuningOptions options, string parameterName)
    {
        ColumnChecks.Check(shape, options.QueryImageColumnName, options.QueryTextColumnName, null, parameterName, Step, "query ");
        ColumnChecks.Check(shape, options.PositiveImageColumnName, options.PositiveTextColumnName, null, parameterName, Step, "positive ");
        if (options.NegativesColumnName is { } negatives)
        {
            SchemaShape.Column? found = null;
            foreach (var column in shape)
            {
                if (column.Name == negatives)
                {
                    found = column;
                }
            }

            if (found is not { } negativesColumn)
            {
                throw new ArgumentOutOfRangeException(parameterName, $"{Step}: the negatives column '{negatives}' is not in the input.");
            }

            if (negativesColumn.ItemType is not TextDataViewType)
            {
                throw new ArgumentOutOfRangeException(parameterName, $"{Step}: the negatives column '{negatives}' holds {negativesColumn.ItemType}; it must be String or a vector of String (hard-negative texts).");
            }
        }
    }
}
