using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Vlm2Vec.Cli.Tests;

/// <summary>A minimal .npy (version 1.0, little-endian float32, C order) reader for checking what embed writes.</summary>
internal sealed partial record NpyFile(string Header, int Rows, int Columns, float[] Values)
{
    public static NpyFile Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, bytes[..8]);
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8, 2));
        Assert.Equal(0, (10 + headerLength) % 64); // the data is 64-byte aligned
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.EndsWith("\n", header, StringComparison.Ordinal);
        Assert.Contains("'descr': '<f4'", header, StringComparison.Ordinal);
        Assert.Contains("'fortran_order': False", header, StringComparison.Ordinal);
        var shape = ShapePattern().Match(header);
        Assert.True(shape.Success, header);
        var rows = int.Parse(shape.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var columns = int.Parse(shape.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        var data = bytes.AsSpan(10 + headerLength);
        Assert.Equal(rows * columns * sizeof(float), data.Length);
        var values = new float[rows * columns];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..]);
        }

        return new NpyFile(header, rows, columns, values);
    }

    public float[] Row(int row) => Values.AsSpan(row * Columns, Columns).ToArray();

    [GeneratedRegex(@"'shape': \((\d+), (\d+)\)")]
    private static partial Regex ShapePattern();
}
