using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// One optimiser step's prepared inputs: the queries, the targets (per query its positive, then its hard negatives),
/// and each query's positive row in <see cref="Targets"/>.
/// </summary>
internal sealed record ContrastiveBatch(IReadOnlyList<PreparedInput> Queries, IReadOnlyList<PreparedInput> Targets, long[] Positives)
{
    /// <summary>Builds the batch of prepared examples in order.</summary>
    public static ContrastiveBatch From(IReadOnlyList<PreparedExample> examples)
    {
        var queries = new List<PreparedInput>(examples.Count);
        var targets = new List<PreparedInput>(examples.Count);
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
