using System.Globalization;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>
/// One dimension of a graph input, output or value-info shape: a fixed size (<c>1280</c>) or a symbolic name
/// (<c>"batch"</c>, <c>"sequence"</c>, <c>"patches"</c>). Converts implicitly from <see cref="long"/> and
/// <see cref="string"/>, so shapes read as <c>["batch", "sequence", 1536]</c>.
/// </summary>
internal readonly record struct OnnxDimension
{
    private OnnxDimension(long? size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The fixed size, or <see langword="null"/> for a symbolic dimension.</summary>
    public long? Size { get; }

    /// <summary>The symbolic name, or <see langword="null"/> for a fixed dimension.</summary>
    public string? Symbol { get; }

    /// <summary>A fixed dimension.</summary>
    public static OnnxDimension Fixed(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return new(size, null);
    }

    /// <summary>A symbolic (dynamic) dimension; dimensions with the same name are the same size.</summary>
    public static OnnxDimension Named(string symbol)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        return new(null, symbol);
    }

    /// <summary>A fixed dimension.</summary>
    public static implicit operator OnnxDimension(long size) => Fixed(size);

    /// <summary>A symbolic dimension.</summary>
    public static implicit operator OnnxDimension(string symbol) => Named(symbol);

    /// <inheritdoc />
    public override string ToString() => Symbol ?? Size!.Value.ToString(CultureInfo.InvariantCulture);
}
