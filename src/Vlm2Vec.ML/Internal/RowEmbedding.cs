using System.Globalization;

namespace Vlm2Vec.ML;

/// <summary>Embeds rows and applies the row-error policy (throw naming the row, or NaN plus a warning).</summary>
internal static class RowEmbedding
{
    /// <summary>One row of a read: its input (null when it has nothing to embed), its position and a description.</summary>
    internal readonly record struct Row(MultimodalInput? Input, long Position, string Description);

    /// <summary>
    /// Embeds <paramref name="rows"/> in one embedder call (which batches them by its budgets) and writes one vector per
    /// row into <paramref name="vectors"/>, each of <see cref="EmbeddingSpec.Dimension"/> values.
    /// </summary>
    /// <exception cref="Vlm2VecRowException">A row failed and the policy is to throw.</exception>
    public static void Embed(EmbeddingSpec spec, string specJson, Vlm2VecEmbedder embedder, IReadOnlyList<Row> rows, float[][] vectors, CancellationToken cancellationToken = default)
    {
        var inputs = new List<MultimodalInput>(rows.Count);
        var resultOfRow = new int[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            resultOfRow[i] = -1;
            if (rows[i].Input is { } input)
            {
                resultOfRow[i] = inputs.Count;
                inputs.Add(input);
            }
        }

        var results = inputs.Count == 0 ? [] : embedder.EmbedEachAsync(inputs, cancellationToken).GetAwaiter().GetResult();

        // Rows are settled in row order, so that with the throwing policy the first bad row is the one reported.
        for (var row = 0; row < rows.Count; row++)
        {
            if (resultOfRow[row] < 0)
            {
                Fail(spec, specJson, rows[row], vectors, row, new InvalidInputException(
                    $"There is nothing to embed: {RowInputs.NothingToEmbed(spec)}. A row needs a non-empty image or text."));
                continue;
            }

            var result = results[resultOfRow[row]];
            if (result.Embedding is { } embedding)
            {
                if (embedding.Length != spec.Dimension)
                {
                    throw new InvalidOperationException(
                        $"The model returned {embedding.Length} values for row {rows[row].Position}; this transformer was built for dimension {spec.Dimension}.");
                }

                embedding.AsSpan().CopyTo(Target(vectors, row, spec.Dimension));
            }
            else
            {
                var error = result.Error!;
                Fail(spec, specJson, rows[row], vectors, row, error.InnerException ?? error);
            }
        }
    }

    private static Span<float> Target(float[][] vectors, int index, int dimension)
    {
        var vector = vectors[index];
        if (vector is null || vector.Length != dimension)
        {
            vector = vectors[index] = new float[dimension];
        }

        return vector;
    }

    private static void Fail(EmbeddingSpec spec, string specJson, Row row, float[][] vectors, int index, Exception cause)
    {
        var where = row.Position >= 0 ? string.Create(CultureInfo.InvariantCulture, $"Row {row.Position}") : "A row";
        var message = $"{where} ({row.Description}) could not be embedded: {cause.Message}";
        if (spec.RowErrors == Vlm2VecRowErrorHandling.Throw)
        {
            throw new Vlm2VecRowException(row.Position, message, cause);
        }

        Target(vectors, index, spec.Dimension).Fill(float.NaN);
        RowErrorLog.Warning(specJson, message + " Its embedding is NaN.");
    }
}
