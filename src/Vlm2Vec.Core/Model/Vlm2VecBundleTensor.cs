using System.Globalization;

namespace Vlm2Vec;

/// <summary>One input or output of a bundle graph: its name, element type and shape (symbolic or fixed dimensions).</summary>
public sealed record Vlm2VecBundleTensor
{
    /// <summary>The tensor's name in the ONNX graph.</summary>
    public required string Name { get; init; }

    /// <summary>Element type: <c>float32</c>, <c>float16</c>, <c>int64</c>, <c>int32</c> or <c>bool</c>.</summary>
    public required string ElementType { get; init; }

    /// <summary>Dimensions: a decimal number for a fixed size, a name (<c>batch</c>, <c>sequence</c>) for a symbolic one.</summary>
    public required IReadOnlyList<string> Shape { get; init; }

    /// <summary>The fixed size of dimension <paramref name="axis"/>, or <see langword="null"/> when it is symbolic.</summary>
    public long? FixedSize(int axis) =>
        long.TryParse(Shape[axis], NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null;

    /// <summary>The shape as text, e.g. <c>[batch, sequence, 1536]</c>.</summary>
    public string DescribeShape() => "[" + string.Join(", ", Shape) + "]";
}
