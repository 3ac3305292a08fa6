namespace Vlm2Vec;

/// <summary>Describes a loaded model.</summary>
public sealed record Vlm2VecModelInfo
{
    /// <summary>A model id (the bundle's or checkpoint's name, e.g. <c>VLM2Vec-Qwen2VL-2B</c>).</summary>
    public required string ModelId { get; init; }

    /// <summary>Embedding dimension (the decoder's hidden size).</summary>
    public required int Dimension { get; init; }

    /// <summary>The architecture (<c>qwen2_vl</c>).</summary>
    public string Architecture { get; init; } = "qwen2_vl";

    /// <summary>Engine name, e.g. <c>onnxruntime-cpu</c>, <c>onnxruntime-cuda</c>, <c>torchsharp-cpu</c>.</summary>
    public string Engine { get; init; } = "unknown";

    /// <summary>Weights' dtype (<c>float32</c>, <c>float16</c>, <c>bfloat16</c>).</summary>
    public string DType { get; init; } = "float32";

    /// <summary>Where the model was loaded from.</summary>
    public string? Source { get; init; }
}
