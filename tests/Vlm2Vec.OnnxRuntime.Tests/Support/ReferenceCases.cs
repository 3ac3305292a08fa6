using System.Buffers.Binary;
using System.Text;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.OnnxRuntime.Tests.Support;

/// <summary>
/// The Hugging Face reference fixtures of <c>tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference</c> (tiny random Qwen2-VL
/// checkpoints and transformers 4.45.1 outputs, see its README): folders, <c>.npy</c> arrays, and each case's inputs as a
/// <see cref="CollatedBatch"/>. Fails loudly when the fixtures are missing.
/// </summary>
internal static class ReferenceCases
{
    public static string Root => ReferenceFixtureFolder.Root;

    /// <summary>A model folder: tiny-qwen2vl-tied, tiny-qwen2vl-tied-bin, tiny-qwen2vl-tied-bf16, tiny-qwen2vl-untied-sharded.</summary>
    public static string Model(string name) => ReferenceFixtureFolder.Model(name);

    /// <summary>An adapter folder (dora, dora-newlayout, lora) or expected-output folder (dora-expected, lora-expected).</summary>
    public static string Adapter(string name) => ReferenceFixtureFolder.Adapter(name);

    /// <summary>A case folder, e.g. ("tiny-qwen2vl-tied", "vlm2vec_image_mixed").</summary>
    public static string Case(string model, string name) => Existing(Path.Combine(Root, "cases", model, name));

    public static (float[] Data, long[] Shape) Floats(string folder, string file)
    {
        var (bytes, offset, descr, shape) = ReadNpy(Path.Combine(folder, file));
        Assert.Equal("<f4", descr);
        var data = new float[(bytes.Length - offset) / 4];
        Buffer.BlockCopy(bytes, offset, data, 0, data.Length * 4);
        return (data, shape);
    }

    public static (long[] Data, long[] Shape) Longs(string folder, string file)
    {
        var (bytes, offset, descr, shape) = ReadNpy(Path.Combine(folder, file));
        Assert.Equal("<i8", descr);
        var data = new long[(bytes.Length - offset) / 8];
        Buffer.BlockCopy(bytes, offset, data, 0, data.Length * 8);
        return (data, shape);
    }

    /// <summary>
    /// The case's inputs as the collator would produce them: ids, mask and <c>get_rope_index</c> positions as HF computed
    /// them, the image-token mask (every placeholder of the fixtures belongs to an image), pixels and grids.
    /// </summary>
    public static CollatedBatch Batch(string caseFolder, int imageTokenId, string? inputsFrom = null)
    {
        var folder = inputsFrom ?? caseFolder;
        var (ids, shape) = Longs(folder, "input_ids.npy");
        var (mask, _) = Longs(folder, "attention_mask.npy");
        var (positions, _) = Longs(caseFolder, "position_ids.npy");
        var hasImages = File.Exists(Path.Combine(folder, "pixel_values.npy"));
        var (pixels, _) = hasImages ? Floats(folder, "pixel_values.npy") : ([], [0L]);
        var (grid, _) = hasImages ? Longs(folder, "image_grid_thw.npy") : ([], [0L]);
        int batch = (int)shape[0], length = (int)shape[1];
        var imageMask = ids.Select(id => id == imageTokenId ? 1L : 0L).ToArray();

        // Images per row: assign grids in order until each row's placeholder count is covered.
        var imagesPerRow = new int[batch];
        var image = 0;
        for (var row = 0; row < batch; row++)
        {
            var tokens = imageMask.AsSpan(row * length, length).ToArray().Sum();
            while (tokens > 0)
            {
                tokens -= grid[3 * image] * grid[(3 * image) + 1] * grid[(3 * image) + 2] / 4;
                imagesPerRow[row]++;
                image++;
            }
        }

        var right = Enumerable.Range(0, batch).Any(r => mask[(r * length) + length - 1] == 0);
        var pooled = Enumerable.Range(0, batch)
            .Select(r => right ? (int)mask.AsSpan(r * length, length).ToArray().Sum() - 1 : length - 1).ToArray();
        return new CollatedBatch
        {
            BatchSize = batch,
            SequenceLength = length,
            InputIds = ids,
            AttentionMask = mask,
            PositionIds = positions,
            ImageTokenMask = imageMask,
            PixelValues = pixels,
            ImageGridThw = grid,
            ImagesPerRow = imagesPerRow,
            PooledIndex = pooled,
            Padding = right ? PaddingSide.Right : PaddingSide.Left,
            PatchRowLength = hasImages ? 1176 : 0,
        };
    }

    private static (byte[] Bytes, int DataOffset, string Descr, long[] Shape) ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length >= 10 && bytes[0] == 0x93 && Encoding.ASCII.GetString(bytes, 1, 5) == "NUMPY", $"{path} is not an .npy file");
        var major = bytes[6];
        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        var headerStart = major == 1 ? 10 : 12;
        var header = Encoding.Latin1.GetString(bytes, headerStart, headerLength);
        Assert.Contains("'fortran_order': False", header, StringComparison.Ordinal);
        var descr = Between(header, "'descr': '", "'");
        var shape = Between(header, "'shape': (", ")").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
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
}
