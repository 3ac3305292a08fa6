using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>A training example after preprocessing: query, positive and the hard negatives chosen for this epoch.</summary>
internal sealed record PreparedExample(int Index, PreparedInput Query, PreparedInput Positive, IReadOnlyList<PreparedInput> Negatives);
