using System.Text.Json;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Batching;

/// <summary>
/// Collates the token ids and images of the reference fixtures (Hugging Face transformers 4.45.1 outputs for tiny
/// Qwen2-VL configs, tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference) and compares, exactly, the padded ids, the
/// mask, the <c>get_rope_index</c> position ids, the pooled index, the grids and the concatenated pixel values.
/// </summary>
public sealed class ReferenceFixtureCollationTests
{
    private static readonly string FixtureRoot = FindFixtureRoot();

    [Theory]
    [InlineData("tiny-qwen2vl-tied", "text_left_padded")]
    [InlineData("tiny-qwen2vl-tied", "vlm2vec_image_mixed")]
    [InlineData("tiny-qwen2vl-tied", "chat_mrope_left_padded")]
    [InlineData("tiny-qwen2vl-tied", "right_padded_mixed")]
    [InlineData("tiny-qwen2vl-tied", "single_chat_image")]
    [InlineData("tiny-qwen2vl-untied", "chat_two_images_left_padded")]
    [InlineData("tiny-qwen2vl-untied", "text_right_padded")]
    public void Collation_matches_the_reference(string model, string caseName)
    {
        var folder = Path.Combine(FixtureRoot, "cases", model, caseName);
        using var caseJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "case.json")));
        var padding = caseJson.RootElement.GetProperty("padding_side").GetString() == "left" ? PaddingSide.Left : PaddingSide.Right;
        var padId = caseJson.RootElement.GetProperty("pad_token_id").GetInt32();
        var config = Qwen2VlConfig.Load(Path.Combine(FixtureRoot, "models", model == "tiny-qwen2vl-untied" ? "tiny-qwen2vl-untied-sharded" : model, "config.json"));
        var options = BatchCollatorOptions.FromConfig(config, padId, padding);

        var inputIds = NpyArray.Read(Path.Combine(folder, "input_ids.npy"));
        var mask = NpyArray.Read(Path.Combine(folder, "attention_mask.npy")).Int64!;
        var positions = NpyArray.Read(Path.Combine(folder, "position_ids.npy")).Int64!;
        var pooled = NpyArray.Read(Path.Combine(folder, "pooled_index.npy")).Int64!;
        var hasImages = File.Exists(Path.Combine(folder, "image_grid_thw.npy"));
        var grids = hasImages ? NpyArray.Read(Path.Combine(folder, "image_grid_thw.npy")).Int64! : [];
        var pixels = hasImages ? NpyArray.Read(Path.Combine(folder, "pixel_values.npy")).Float32! : [];
        var (batch, length) = (inputIds.Shape[0], inputIds.Shape[1]);

        // Rebuild the unpadded rows; images are handed out in batch reading order to the rows whose placeholder
        // counts they fill (t·h·w/4 tokens each).
        var rows = new List<PreparedInput>();
        int nextImage = 0, nextPatch = 0;
        for (var b = 0; b < batch; b++)
        {
            var ids = Enumerable.Range(0, length).Where(j => mask[b * length + j] == 1).Select(j => (int)inputIds.Int64![b * length + j]).ToArray();
            var placeholders = ids.Count(id => id == config.ImageTokenId);
            var images = new List<ProcessedImage>();
            while (placeholders > 0)
            {
                var (t, h, w) = ((int)grids[nextImage * 3], (int)grids[nextImage * 3 + 1], (int)grids[nextImage * 3 + 2]);
                var patchValues = t * h * w * 1176;
                images.Add(new ProcessedImage(pixels.AsSpan(nextPatch, patchValues).ToArray(), t, h, w, 1176));
                nextPatch += patchValues;
                nextImage++;
                placeholders -= t * h * w / 4;
            }

            Assert.Equal(0, placeholders);
            rows.Add(new PreparedInput(ids, images, caseName));
        }

        Assert.Equal(grids.Length / 3, nextImage);
        var collated = new BatchCollator(options).Collate(rows);

        Assert.Equal(length, collated.SequenceLength);
        Assert.Equal(inputIds.Int64, collated.InputIds);
        Assert.Equal(mask, collated.AttentionMask);
        Assert.Equal(positions, collated.PositionIds);
        Assert.Equal(pooled.Select(p => (int)p), collated.PooledIndex);
        Assert.Equal(grids, collated.ImageGridThw);
        Assert.Equal(pixels, collated.PixelValues);
        var expectedImageMask = inputIds.Int64!.Select((id, i) => id == config.ImageTokenId && mask[i] == 1 ? 1L : 0L);
        Assert.Equal(expectedImageMask, collated.ImageTokenMask);
    }

    private static string FindFixtureRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Vlm2Vec.TorchSharp.Tests", "Fixtures", "reference");
            if (File.Exists(Path.Combine(candidate, "README.md")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("The reference fixtures (tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference) were not found above " + AppContext.BaseDirectory + ".");
    }
}
