using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Vlm2Vec.Core.Tests.Batching;

/// <summary>A minimal reader for the little-endian, C-order <c>int64</c>/<c>float32</c> <c>.npy</c> fixture files.</summary>
internal sealed partial class NpyArray
{
    private NpyArray(int[] shape, long[]? int64, float[]? float32)
    {
        Shape = shape;
        Int64 = int64;
        Float32 = float32;
    }

    public int[] Shape { get; }

    public long[]? Int64 { get; }

    public float[]? Float32 { get; }

    public static NpyArray Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"{path} is not an .npy file.");
        }

        var major = bytes[6];
        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        var headerStart = major == 1 ? 10 : 12;
        var header = Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path} is Fortran-ordered.");
        }

        var descr = Descr().Match(header).Groups[1].Value;
        var shape = ShapePattern().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(int.Parse).ToArray();
        var count = shape.Aggregate(1, (a, b) => a * b);
        var offset = headerStart + headerLength;
        return descr switch
        {
            "<i8" => new NpyArray(shape, Enumerable.Range(0, count).Select(i => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(offset + i * 8))).ToArray(), null),
            "<f4" => new NpyArray(shape, null, Enumerable.Range(0, count).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset + i * 4))).ToArray()),
            _ => throw new InvalidDataException($"{path}: dtype {descr} is not supported."),
        };
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex Descr();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
