using Vlm2Vec.Evaluation;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Evaluation;

/// <summary>
/// A "perfect model" for the given datasets: it prepares every row's query and positive with the real preprocessing,
/// and gives a query the same one-hot vector as its positive (one direction per distinct positive). Every other input
/// gets a flat vector, whose cosine with a one-hot vector is 1/√D &lt; 1. So hit@1 must come out at 100% on any dataset
/// whose distinct queries each have one positive, which proves the whole path: loading, dedup, batching, the per-row
/// candidate lookup and the scoring.
/// </summary>
internal sealed class OracleEncoder : SignatureEncoder
{
    private readonly Dictionary<string, int> _classes = new(StringComparer.Ordinal);

    public OracleEncoder(Vlm2VecPreprocessor preprocessor, IEnumerable<MmebEvalDataset> datasets, int dimension = 1024)
        : base(preprocessor, dimension, "test/oracle")
    {
        var positives = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var dataset in datasets)
        {
            foreach (var row in dataset.Rows)
            {
                var positive = Signature(preprocessor.Prepare(MmebEvaluator.CreateInput(dataset, new(row.TargetTexts[0], row.TargetImagePaths[0]), EmbeddingRole.Target)));
                if (!positives.TryGetValue(positive, out var id))
                {
                    id = positives.Count;
                    positives.Add(positive, id);
                }

                var query = Signature(preprocessor.Prepare(MmebEvaluator.CreateInput(dataset, new(row.QueryText, row.QueryImagePath), EmbeddingRole.Query)));
                if (_classes.TryGetValue(query, out var existing) && existing != id)
                {
                    throw new InvalidOperationException($"Query of line {row.LineNumber} has two different positives; the oracle cannot be perfect.");
                }

                _classes[query] = id;
                _classes[positive] = id;
            }
        }

        if (positives.Count > dimension)
        {
            throw new InvalidOperationException($"{positives.Count} distinct positives need a dimension of at least that.");
        }
    }

    protected override float[] VectorFor(string signature)
    {
        var values = new double[Info.Dimension];
        if (_classes.TryGetValue(signature, out var id))
        {
            values[id] = 1;
        }
        else
        {
            Array.Fill(values, 1.0);
        }

        return Normalised(values);
    }
}
