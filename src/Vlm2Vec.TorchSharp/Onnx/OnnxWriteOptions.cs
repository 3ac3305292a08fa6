namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>How <see cref="OnnxModelWriter"/> lays out initializer data.</summary>
internal sealed class OnnxWriteOptions
{
    /// <summary>Initializers of at most this many bytes stay inline in the <c>.onnx</c> file (shape constants, scalars,
    /// norm weights); larger ones go to the external data file. Default 1 KiB. The builder's shape/axes/scalar
    /// constants stay inline whatever this says (ORT's shape inference cannot read them from external data).</summary>
    public long InlineThresholdBytes { get; init; } = 1024;

    /// <summary>Alignment of every tensor's offset in the external data file (a power of two; default 64, enough for
    /// vectorised loads; 4096 lets ORT memory-map each tensor page-aligned).</summary>
    public int ExternalDataAlignment { get; init; } = 64;

    /// <summary>Name of the external data file, next to the model; default <c>{model file name}_data</c>
    /// (<c>model.onnx</c> → <c>model.onnx_data</c>).</summary>
    public string? ExternalDataFileName { get; init; }
}
