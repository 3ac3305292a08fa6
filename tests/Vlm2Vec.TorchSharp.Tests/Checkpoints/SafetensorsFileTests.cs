using System.Buffers.Binary;
using System.Text;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Checkpoints;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Checkpoints;

public sealed class SafetensorsFileTests : TorchTestBase
{
    public static TheoryData<ScalarType> AllTypes => new()
    {
        ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16, ScalarType.Float64,
        ScalarType.Int64, ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    };

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Round_trip_keeps_type_shape_and_bytes(ScalarType type)
    {
        using var folder = new TempFolder();
        var path = folder.Combine("t.safetensors");
        var original = RandomTensor(type, [3, 5, 2], seed: 11);
        var scalar = RandomTensor(type, [], seed: 12);
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["w"] = original, ["s"] = scalar }, new Dictionary<string, string> { ["note"] = "x" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(new[] { 3L, 5, 2 }, file.GetInfo("w").Shape);
        Assert.Empty(file.GetInfo("s").Shape);
        AssertIdentical(original, file.ReadTensor("w"), "w");
        AssertIdentical(scalar, file.ReadTensor("s"), "s");
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("x", file.Metadata["note"]);
    }

    [Fact]
    public void Reads_a_file_built_byte_by_byte_from_the_format_spec()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("spec.safetensors");
        const string header = """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I16","shape":[1,2],"data_offsets":[8,12]}}""";
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + 12];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        var data = bytes.AsSpan(8 + json.Length);
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data[4..], -2f);
        BinaryPrimitives.WriteInt16LittleEndian(data[8..], 3);
        BinaryPrimitives.WriteInt16LittleEndian(data[10..], -4);
        File.WriteAllBytes(path, bytes);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(new[] { 1.5f, -2f }, file.ReadTensor("a").data<float>().ToArray());
        var b = file.ReadTensor("b");
        Assert.Equal(ScalarType.Int16, b.dtype);
        Assert.Equal(new[] { 1L, 2 }, b.shape);
        Assert.Equal(new short[] { 3, -4 }, b.data<short>().ToArray());
    }

    [Fact]
    public void Written_header_is_padded_to_8_bytes_and_laid_out_by_element_size_then_name()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("layout.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, Tensor>
        {
            ["z_small"] = ones(3, dtype: ScalarType.Int8),
            ["b_big"] = ones(2, dtype: ScalarType.Float64),
            ["a_mid"] = ones(5, dtype: ScalarType.Float32),
            ["c_mid"] = ones(1, dtype: ScalarType.Float32),
        });

        var bytes = File.ReadAllBytes(path);
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + 16 + 20 + 4 + 3, bytes.Length);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["b_big", "a_mid", "c_mid", "z_small"], file.Tensors.Select(t => t.Name));
        Assert.Equal([0L, 16, 36, 40], file.Tensors.Select(t => t.DataOffset));
    }

    [Fact]
    public void Conversion_on_read_touches_only_floating_point_tensors()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("c.safetensors");
        var bf = RandomTensor(ScalarType.BFloat16, [4, 4], 3);
        var ints = RandomTensor(ScalarType.Int32, [4], 4);
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["bf"] = bf, ["i"] = ints });

        using var file = SafetensorsFile.Open(path);
        var asFloat = file.ReadTensor("bf", ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, asFloat.dtype);
        AssertClose(bf, asFloat, 0);
        Assert.Equal(ScalarType.Int32, file.ReadTensor("i", ScalarType.Float32).dtype);
        var all = file.ReadAll(ScalarType.Float16, include: n => n == "bf");
        Assert.Equal(["bf"], all.Keys);
        Assert.Equal(ScalarType.Float16, all["bf"].dtype);
    }

    [Fact]
    public void Truncated_file_is_reported_naming_the_tensor()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("t.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["first"] = ones(4), ["second"] = ones(4, dtype: ScalarType.Int8) });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^2]);

        var ex = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'second'", ex.Message, StringComparison.Ordinal);

        File.WriteAllBytes(path, bytes[..20]);
        ex = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("truncated or corrupt", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]""", "not valid JSON")]
    [InlineData("""[1,2,3]""", "not an object")]
    [InlineData("""{"a":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}}""", "unknown dtype 'F99'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "spans 8 bytes but F32 [3] needs 12")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "overlap")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "invalid shape entry")]
    [InlineData("""{"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "not a string")]
    public void Corrupt_headers_are_refused_with_a_clear_reason(string header, string reason)
    {
        using var folder = new TempFolder();
        var path = folder.Combine("bad.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Contains("bad.safetensors", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_huge_header_length_is_refused_without_allocating_it()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("huge.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("header length", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(folder.Combine("missing.safetensors")));
    }

    [Fact]
    public void Writes_are_atomic_and_replace_a_longer_file_completely()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("a.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["big"] = ones(1000) });
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["small"] = full(2, 7f) });

        Assert.Equal(["a.safetensors"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["small"], file.Tensors.Select(t => t.Name));
        Assert.Equal(new[] { 7f, 7f }, file.ReadTensor("small").data<float>().ToArray());
    }

    [Fact]
    public void Files_are_interchangeable_with_TorchSharp_PyBridge()
    {
        using var folder = new TempFolder();
        var ours = folder.Combine("ours.safetensors");
        var theirs = folder.Combine("theirs.safetensors");
        var weight = RandomTensor(ScalarType.BFloat16, [6, 3], 5);
        var ids = RandomTensor(ScalarType.Int64, [7], 6);

        SafetensorsFile.Write(ours, new Dictionary<string, Tensor> { ["w"] = weight, ["ids"] = ids });
        var read = global::TorchSharp.PyBridge.Safetensors.LoadStateDict(ours);
        AssertIdentical(weight, read["w"]);
        AssertIdentical(ids, read["ids"]);

        global::TorchSharp.PyBridge.Safetensors.SaveStateDict(theirs, new Dictionary<string, Tensor> { ["w"] = weight, ["ids"] = ids });
        using var file = SafetensorsFile.Open(theirs);
        AssertIdentical(weight, file.ReadTensor("w"));
        AssertIdentical(ids, file.ReadTensor("ids"));
    }

    internal static Tensor RandomTensor(ScalarType type, long[] shape, long seed)
    {
        using var generator = new Generator((ulong)seed, CPU);
        using var values = randn(shape, dtype: ScalarType.Float32, generator: generator).mul_(20);
        return type switch
        {
            ScalarType.Bool => values.gt(0),
            ScalarType.Byte => values.abs().to(type),
            _ => values.to(type),
        };
    }
}
