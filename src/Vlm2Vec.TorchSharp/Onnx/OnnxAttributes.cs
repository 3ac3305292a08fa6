using Google.Protobuf;
using Onnx;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>Typed factories for node attributes (<c>OnnxAttributes.Int("axis", -1)</c>).</summary>
internal static class OnnxAttributes
{
    /// <summary>An integer attribute.</summary>
    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>A string attribute (UTF-8).</summary>
    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>A list-of-integers attribute.</summary>
    public static AttributeProto Ints(string name, params ReadOnlySpan<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        foreach (var value in values)
        {
            attribute.Ints.Add(value);
        }

        return attribute;
    }

    /// <summary>A list-of-floats attribute.</summary>
    public static AttributeProto Floats(string name, params ReadOnlySpan<float> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        foreach (var value in values)
        {
            attribute.Floats.Add(value);
        }

        return attribute;
    }

    /// <summary>A tensor attribute (e.g. the <c>value</c> of <c>Constant</c> or <c>ConstantOfShape</c>).</summary>
    public static AttributeProto Tensor(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };
}
