namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>Model-level settings of an <see cref="OnnxGraphBuilder"/>.</summary>
internal sealed class OnnxGraphBuilderOptions
{
    /// <summary>The ai.onnx opset imported by the model. 21 is the newest opset every ORT ≥ 1.18 runs; opset 23 adds
    /// <c>RMSNormalization</c>, <c>RotaryEmbedding</c> and <c>Attention</c> (ORT 1.31 runs them on CPU).</summary>
    public int OpsetVersion { get; init; } = 21;

    /// <summary>The <c>com.microsoft</c> opset (ORT contrib operators); only version 1 exists.</summary>
    public int MicrosoftOpsetVersion { get; init; } = 1;

    /// <summary>The IR version stamped on the model; when <see langword="null"/> it follows the opset
    /// (10 up to opset 22, 11 for opset 23+), as the ONNX release table pairs them.</summary>
    public long? IrVersion { get; init; }

    /// <summary>The graph's name.</summary>
    public string GraphName { get; init; } = "main_graph";

    /// <summary>The producer recorded in the model.</summary>
    public string ProducerName { get; init; } = "Vlm2Vec.TorchSharp";

    /// <summary>The producer version recorded in the model.</summary>
    public string ProducerVersion { get; init; } = typeof(OnnxGraphBuilderOptions).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>A human-readable description of the model (<c>ModelProto.doc_string</c>).</summary>
    public string? DocString { get; init; }

    /// <summary>The effective IR version.</summary>
    internal long EffectiveIrVersion => IrVersion ?? (OpsetVersion >= 23 ? 11 : 10);
}
