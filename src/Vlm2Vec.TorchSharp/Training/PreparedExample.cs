using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>A training example ready for a step: query, positive and the hard negatives chosen for this epoch.</summary>
internal sealed record PreparedExample(int Index, BatchInput Query, BatchInput Positive, IReadOnlyList<BatchInput> Negatives)
{
    /// <summary>An example of inputs prepared already.</summary>
    public static PreparedExample Of(int index, PreparedInput query, PreparedInput positive, IEnumerable<PreparedInput>? negatives = null) =>
        new(index, BatchInput.Of(query), BatchInput.Of(positive), [.. (negatives ?? []).Select(BatchInput.Of)]);
}
