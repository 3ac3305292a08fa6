using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>
/// Access to <c>tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference</c> (Hugging Face transformers outputs on tiny random
/// checkpoints; see its README). Fails loudly when the folder is missing.
/// </summary>
internal static partial class ReferenceFixtures
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string ModelFolder(string name) => Existing(Path.Combine(Root, "models", name));

    public static string AdapterFolder(string name) => Existing(Path.Combine(Root, "adapters", name));

    public static ReferenceCase Case(string relativeFolder) => new(Existing(Path.Combine(Root, relativeFolder)));

    private static string Existing(string path) =>
        Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"Reference fixture folder is missing: '{path}'.");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[]
            {
                Path.Combine(dir.FullName, "Fixtures", "reference"),
                Path.Combine(dir.FullName, "tests", "Vlm2Vec.TorchSharp.Tests", "Fixtures", "reference"),
            })
            {
                if (File.Exists(Path.Combine(candidate, "manifest.json")))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException("The reference fixtures (tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference/manifest.json) were not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Reads a little-endian C-order <c>.npy</c> of <c>&lt;f4</c> or <c>&lt;i8</c>.</summary>
    public static NpyArray ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"{path} is not a .npy file.");
        }

        int headerLength, offset;
        if (bytes[6] == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
            offset = 10;
        }
        else
        {
            headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
            offset = 12;
        }

        var header = Encoding.ASCII.GetString(bytes, offset, headerLength);
        var descr = DescrPattern().Match(header).Groups[1].Value;
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: Fortran order is not supported.");
        }

        var shapeText = ShapePattern().Match(header).Groups[1].Value;
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        var data = bytes.AsSpan(offset + headerLength);
        return descr switch
        {
            "<f4" => new NpyArray(shape, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray(), null),
            "<i8" => new NpyArray(shape, null, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(data).ToArray()),
            _ => throw new InvalidDataException($"{path}: dtype {descr} is not supported."),
        };
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}

/// <summary>A loaded <c>.npy</c> array (float32 or int64).</summary>
internal sealed record NpyArray(long[] Shape, float[]? Floats, long[]? Longs)
{
    public float[] F => Floats ?? throw new InvalidDataException("not a float32 array");

    public long[] L => Longs ?? throw new InvalidDataException("not an int64 array");
}

/// <summary>One fixture case folder: <c>case.json</c> and its <c>.npy</c> files (inputs may come from <c>inputs_from</c>).</summary>
internal sealed class ReferenceCase(string folder)
{
    private readonly JsonObject _json = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "case.json")))!;

    public string Folder { get; } = folder;

    public string Model => _json["model"]!.GetValue<string>();

    public bool Has(string name) => File.Exists(Path.Combine(Folder, name + ".npy"));

    public NpyArray Output(string name) => ReferenceFixtures.ReadNpy(Path.Combine(Folder, name + ".npy"));

    /// <summary>An input array, from this folder or from the case named by <c>inputs_from</c>.</summary>
    public NpyArray? Input(string name)
    {
        var here = Path.Combine(Folder, name + ".npy");
        if (File.Exists(here))
        {
            return ReferenceFixtures.ReadNpy(here);
        }

        if (_json["inputs_from"]?.GetValue<string>() is { } from)
        {
            var there = Path.Combine(ReferenceFixtures.Root, from, name + ".npy");
            return File.Exists(there) ? ReferenceFixtures.ReadNpy(there) : null;
        }

        return null;
    }
}
