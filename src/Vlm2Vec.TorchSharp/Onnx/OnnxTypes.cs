using Onnx;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>Facts about ONNX element types used by the builder and the writer.</summary>
internal static class OnnxTypes
{
    /// <summary>Bytes per element of a fixed-size element type.</summary>
    public static int ElementSize(TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Uint32 => 4,
        TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 or TensorProto.Types.DataType.Int16
            or TensorProto.Types.DataType.Uint16 => 2,
        TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64 => 8,
        TensorProto.Types.DataType.Bool or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Uint8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Only fixed-size numeric element types are supported."),
    };

    /// <summary>The short name ORT and the ONNX spec use (<c>float</c>, <c>float16</c>, <c>int64</c>...).</summary>
    public static string ShortName(TensorProto.Types.DataType type) => type switch
    {
        TensorProto.Types.DataType.Float => "float",
        TensorProto.Types.DataType.Float16 => "float16",
        TensorProto.Types.DataType.Bfloat16 => "bfloat16",
        TensorProto.Types.DataType.Double => "double",
        TensorProto.Types.DataType.Int64 => "int64",
        TensorProto.Types.DataType.Int32 => "int32",
        TensorProto.Types.DataType.Bool => "bool",
        _ => type.ToString().ToLowerInvariant(),
    };
}
