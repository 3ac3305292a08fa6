using Onnx;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>A named, shaped initializer whose bytes are produced when the model is written.</summary>
internal sealed class OnnxInitializer(string name, long[] dims, OnnxTensorData data, bool keepInline = false)
{
    /// <summary>The initializer's (value) name.</summary>
    public string Name { get; } = name;

    /// <summary>The shape.</summary>
    public IReadOnlyList<long> Dims { get; } = dims;

    /// <summary>The data source.</summary>
    public OnnxTensorData Data { get; } = data;

    /// <summary>
    /// Whether the tensor must stay inline whatever its size: the builder's shape/axes/scalar constants, which ORT's
    /// shape inference reads while loading and cannot read from external data ("Cannot parse data from external
    /// tensors").
    /// </summary>
    public bool KeepInline { get; } = keepInline;

    /// <summary>A <see cref="TensorProto"/> with name, type and shape but no data yet.</summary>
    public TensorProto CreateTensorHeader()
    {
        var tensor = new TensorProto { Name = Name, DataType = (int)Data.StoredType };
        tensor.Dims.AddRange(Dims);
        return tensor;
    }
}
