using System.Buffers.Binary;
using System.IO.Compression;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Reads the IDX files of MNIST / Fashion-MNIST (optionally gzip-compressed): big-endian magic (0x801 labels, 0x803
/// images), the dimension sizes, then unsigned bytes. Written by hand because the format is 16 header bytes and no
/// package on the feed reads it.
/// </summary>
internal static class IdxFile
{
    /// <summary>Images as (count, rows, columns, pixels row-major per image).</summary>
    public static (int Count, int Rows, int Columns, byte[] Pixels) ReadImages(string path)
    {
        var bytes = ReadAll(path);
        Require(BinaryPrimitives.ReadInt32BigEndian(bytes) == 0x803, path, "image magic 0x00000803");
        var count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        var rows = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8));
        var columns = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(12));
        Require(bytes.Length == 16 + ((long)count * rows * columns), path, $"{count}×{rows}×{columns} pixel bytes after the header");
        return (count, rows, columns, bytes[16..]);
    }

    /// <summary>Labels (one byte each).</summary>
    public static byte[] ReadLabels(string path)
    {
        var bytes = ReadAll(path);
        Require(BinaryPrimitives.ReadInt32BigEndian(bytes) == 0x801, path, "label magic 0x00000801");
        var count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        Require(bytes.Length == 8 + count, path, $"{count} label bytes after the header");
        return bytes[8..];
    }

    private static byte[] ReadAll(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static void Require(bool ok, string path, string what)
    {
        if (!ok)
        {
            throw new InvalidDataException($"'{path}' is not a valid IDX file: expected {what}.");
        }
    }
}
