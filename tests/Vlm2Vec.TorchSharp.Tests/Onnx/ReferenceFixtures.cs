using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>
/// Test-only access to <c>tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference</c> (HF transformers 4.45.1 outputs of tiny
/// random Qwen2-VL checkpoints, see its README): little readers for the float32/int64 <c>.npy</c> files and the
/// float32 <c>.safetensors</c> checkpoints, enough to feed the ONNX block experiments. Not a product loader (that lives
/// with the checkpoint code); fails loudly when the fixtures are missing.
/// </summary>
internal static class ReferenceFixtures
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The fixture folder.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A case folder, e.g. ("tiny-qwen2vl-tied", "vlm2vec_image_mixed").</summary>
    public static string Case(string model, string name) => Existing(Path.Combine(Root, "cases", model, name));

    /// <summary>A model folder; the untied model's cases name it "tiny-qwen2vl-untied", its folder is "…-sharded".</summary>
    public static string Model(string model) =>
        Existing(Path.Combine(Root, "models", model == "tiny-qwen2vl-untied" ? "tiny-qwen2vl-untied-sharded" : model));

    /// <summary>A float32 array and its shape from an <c>.npy</c> file.</summary>
    public static (float[] Data, long[] Shape) ReadFloats(string path)
    {
        var (bytes, offset, descr, shape) = ReadNpy(path);
        if (descr != "<f4")
        {
            throw new InvalidDataException($"{path}: dtype {descr}, expected <f4.");
        }

        var data = new float[(bytes.Length - offset) / 4];
        Buffer.BlockCopy(bytes, offset, data, 0, data.Length * 4);
        return (data, shape);
    }

    /// <summary>An int64 array and its shape from an <c>.npy</c> file.</summary>
    public static (long[] Data, long[] Shape) ReadLongs(string path)
    {
        var (bytes, offset, descr, shape) = ReadNpy(path);
        if (descr != "<i8")
        {
            throw new InvalidDataException($"{path}: dtype {descr}, expected <i8.");
        }

        var data = new long[(bytes.Length - offset) / 8];
        Buffer.BlockCopy(bytes, offset, data, 0, data.Length * 8);
        return (data, shape);
    }

    /// <summary>All float32 tensors of a single-file <c>model.safetensors</c>: name → (data, shape).</summary>
    public static Dictionary<string, (float[] Data, long[] Shape)> ReadSafetensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var tensors = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                continue;
            }

            var dtype = entry.Value.GetProperty("dtype").GetString();
            if (dtype != "F32")
            {
                throw new InvalidDataException($"{path}: tensor {entry.Name} is {dtype}; this test reader handles F32 only.");
            }

            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var data = new float[(offsets[1] - offsets[0]) / 4];
            Buffer.BlockCopy(bytes, 8 + headerLength + (int)offsets[0], data, 0, data.Length * 4);
            tensors[entry.Name] = (data, shape);
        }

        return tensors;
    }

    /// <summary>The (in, out) transpose of a PyTorch Linear weight (out, in), for MatMul.</summary>
    public static float[] Transposed(float[] weight, long[] shape)
    {
        var rows = (int)shape[0];
        var columns = (int)shape[1];
        var result = new float[weight.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                result[(c * rows) + r] = weight[(r * columns) + c];
            }
        }

        return result;
    }

    private static (byte[] Bytes, int DataOffset, string Descr, long[] Shape) ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"{path} is not an .npy file.");
        }

        var major = bytes[6];
        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        var headerStart = major == 1 ? 10 : 12;
        var header = Encoding.Latin1.GetString(bytes, headerStart, headerLength);
        if (!header.Contains("'fortran_order': False", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: only C-order arrays are supported.");
        }

        var descr = Between(header, "'descr': '", "'");
        var shapeText = Between(header, "'shape': (", ")");
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return (bytes, headerStart + headerLength, descr, shape);
    }

    private static string Between(string text, string start, string end)
    {
        var i = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        return text[i..text.IndexOf(end, i, StringComparison.Ordinal)];
    }

    private static string Existing(string path) =>
        Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"Reference fixture folder is missing: {path}");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Vlm2Vec.TorchSharp.Tests", "Fixtures", "reference");
            if (File.Exists(Path.Combine(candidate, "manifest.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException(
            "tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference (the HF reference fixtures) was not found above " + AppContext.BaseDirectory);
    }
}
