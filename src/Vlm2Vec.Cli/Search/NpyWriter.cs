using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Vlm2Vec.Cli.Search;

/// <summary>
/// Writes a float32 matrix as a NumPy <c>.npy</c> file, format version 1.0. Written by hand on purpose: the format is
/// ten lines (the magic <c>\x93NUMPY</c>, version 1.0, a little-endian uint16 header length, an ASCII Python-dict header
/// padded with spaces and a newline so that the data starts on a 64-byte boundary, then the raw little-endian values
/// in C order), and no NuGet package is worth a dependency for it.
/// </summary>
internal static class NpyWriter
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0];

    /// <summary>Writes <paramref name="rows"/> (each <paramref name="columns"/> long) as an (n, d) <c>&lt;f4</c> array.</summary>
    /// <exception cref="ArgumentException">A row has another length.</exception>
    public static void WriteFloat32Matrix(Stream stream, IReadOnlyList<float[]> rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(rows);
        var dict = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows.Count}, {columns}), }}");
        var unpadded = Magic.Length + sizeof(ushort) + dict.Length + 1;
        var header = dict + new string(' ', (64 - (unpadded % 64)) % 64) + "\n";
        Span<byte> length = stackalloc byte[sizeof(ushort)];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)header.Length));
        stream.Write(Magic);
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(header));

        var buffer = new byte[columns * sizeof(float)];
        foreach (var row in rows)
        {
            if (row.Length != columns)
            {
                throw new ArgumentException($"A row has {row.Length} values; the matrix has {columns} columns.", nameof(rows));
            }

            for (var i = 0; i < columns; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * sizeof(float)), row[i]);
            }

            stream.Write(buffer);
        }
    }
}
