using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>The safetensors dtype names, their element sizes, and the TorchSharp types that can hold them.</summary>
internal static class SafetensorsDType
{
    /// <summary>Every dtype name of the safetensors format with its element size in bytes (sub-byte types excluded).</summary>
    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1,
        ["U8"] = 1,
        ["I8"] = 1,
        ["F8_E5M2"] = 1,
        ["F8_E4M3"] = 1,
        ["F8_E8M0"] = 1,
        ["I16"] = 2,
        ["U16"] = 2,
        ["F16"] = 2,
        ["BF16"] = 2,
        ["I32"] = 4,
        ["U32"] = 4,
        ["F32"] = 4,
        ["F64"] = 8,
        ["I64"] = 8,
        ["U64"] = 8,
    };

    /// <summary>The dtype names TorchSharp 0.107 can represent, as a readable list for error messages.</summary>
    public const string SupportedList = "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL";

    /// <summary>Element size of a safetensors dtype name, or null when the name is not a safetensors dtype.</summary>
    public static int? ElementSize(string name) => ElementSizes.TryGetValue(name, out var size) ? size : null;

    /// <summary>The TorchSharp type of a safetensors dtype, or null when TorchSharp 0.107 has none (U16/U32/U64, FP8).</summary>
    public static ScalarType? ToScalarType(string name) => name switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => null,
    };

    /// <summary>The safetensors name of a TorchSharp type.</summary>
    /// <exception cref="ArgumentException">A type safetensors cannot store (complex, quantized).</exception>
    public static string FromScalarType(ScalarType type) => type switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentException($"Tensors of type {type} cannot be written to safetensors; supported: {SupportedList}.", nameof(type)),
    };

    /// <summary>Bytes per element of a TorchSharp type that safetensors can store.</summary>
    public static int ElementSize(ScalarType type) => ElementSizes[FromScalarType(type)];

    /// <summary>Whether a type is a floating-point type (the only ones a load-time dtype conversion touches).</summary>
    public static bool IsFloatingPoint(ScalarType type) =>
        type is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;
}
