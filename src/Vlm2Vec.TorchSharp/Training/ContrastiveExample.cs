namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// One training pair in MMEB-train terms: a query, its positive target, and optional hard negatives, each any mix of
/// instruction, text and images (a <see cref="MultimodalInput"/>, prepared exactly as at serving time).
/// </summary>
public sealed record ContrastiveExample
{
    /// <summary>The query (MMEB-train <c>qry</c> + <c>qry_image_path</c>).</summary>
    public required MultimodalInput Query { get; init; }

    /// <summary>The positive target (MMEB-train <c>pos_text</c> + <c>pos_image_path</c>).</summary>
    public required MultimodalInput Positive { get; init; }

    /// <summary>Hard negatives (<c>neg_text</c> + <c>neg_image_path</c>); used when <see cref="ContrastiveTrainingOptions.HardNegatives"/> &gt; 0.</summary>
    public IReadOnlyList<MultimodalInput> Negatives { get; init; } = [];

    /// <summary>The dataset the row belongs to (for per-dataset homogeneous batches); null groups it with the other unnamed rows.</summary>
    public string? Dataset { get; init; }

    /// <summary>Where the row came from, for messages (<c>train.jsonl:17</c>); null names it by its index.</summary>
    public string? Source { get; init; }
}
