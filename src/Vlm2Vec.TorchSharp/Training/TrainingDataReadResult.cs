namespace Vlm2Vec.TorchSharp.Training;

/// <summary>Rows read from a training file, and the rows left out (each as <c>file:line: reason</c>).</summary>
public sealed record TrainingDataReadResult
{
    /// <summary>The usable rows, in file order.</summary>
    public required IReadOnlyList<ContrastiveExample> Examples { get; init; }

    /// <summary>The rows left out under <see cref="BadRowPolicy.Skip"/>, each described with its line and reason.</summary>
    public required IReadOnlyList<string> Skipped { get; init; }
}
