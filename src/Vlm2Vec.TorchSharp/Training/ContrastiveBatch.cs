namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// One optimiser step's inputs: the queries, the targets (per query its positive, then its hard negatives), and each
/// query's positive row in <see cref="Targets"/>.
/// </summary>
internal sealed record ContrastiveBatch(IReadOnlyList<BatchInput> Queries, IReadOnlyList<BatchInput> Targets, long[] Positives)
{
    /// <summary>Builds the batch of examples in order.</summary>
    public static ContrastiveBatch From(IReadOnlyList<PreparedExample> examples)
    {
        var queries = new List<BatchInput>(examples.Count);
        var targets = new List<BatchInput>(examples.Count);
        var positives = new long[examples.Count];
        for (var i = 0; i < examples.Count; i++)
        {
            queries.Add(examples[i].Query);
            positives[i] = targets.Count;
            targets.Add(examples[i].Positive);
            targets.AddRange(examples[i].Negatives);
        }

        return new ContrastiveBatch(queries, targets, positives);
    }
}
