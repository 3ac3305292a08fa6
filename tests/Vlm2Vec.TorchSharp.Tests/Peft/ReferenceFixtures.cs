using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Vlm2Vec.TorchSharp.Tests.Peft;

/// <summary>
/// The reference fixtures in <c>tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference</c> (made with HF transformers 4.45.1
/// and a reimplementation of PEFT's merge math; see its README). Found from the test binaries upwards; missing fixtures
/// fail the test loudly.
/// </summary>
internal static partial class ReferenceFixtures
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string Path(params string[] parts)
    {
        var path = System.IO.Path.Combine([Root, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException($"Reference fixture missing: '{path}'.", path);
        }

        return path;
    }

    /// <summary>Reads a little-endian float32 C-order <c>.npy</c> array (format 1.0/2.0): shape and values.</summary>
    public static (long[] Shape, float[] Values) ReadFloatNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"'{path}' is not a .npy file.");
        }

        var major = bytes[6];
        var (headerLength, headerStart) = major == 1
            ? (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)), 10)
            : ((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)), 12);
        var header = Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        if (!header.Contains("'descr': '<f4'", StringComparison.Ordinal) || !header.Contains("'fortran_order': False", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{path}' is not a little-endian float32 C-order array: {header}");
        }

        var shapeText = ShapePattern().Match(header).Groups[1].Value;
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        var data = bytes.AsSpan(headerStart + headerLength);
        var values = new float[data.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]);
        }

        return (shape, values);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "Fixtures", "reference");
            if (File.Exists(System.IO.Path.Combine(candidate, "manifest.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException(
            "The reference fixtures (tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference/manifest.json) were not found above " + AppContext.BaseDirectory + ".");
    }

    [GeneratedRegex(@"'shape': \(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
