namespace Vlm2Vec;

/// <summary>Where a bundle came from.</summary>
public sealed record Vlm2VecBundleProvenance
{
    /// <summary>The checkpoint folder (or description of the in-memory model) the weights came from.</summary>
    public string? SourceCheckpoint { get; init; }

    /// <summary>The PEFT adapter merged into the weights, when there was one.</summary>
    public string? Adapter { get; init; }

    /// <summary>The exporting library (e.g. <c>Vlm2Vec.TorchSharp</c>).</summary>
    public required string Exporter { get; init; }

    /// <summary>The exporting library's version.</summary>
    public required string ExporterVersion { get; init; }

    /// <summary>When the bundle was written (UTC).</summary>
    public required DateTimeOffset ExportedAt { get; init; }

    /// <summary>The ai.onnx opset the graphs import.</summary>
    public int OnnxOpset { get; init; }
}
