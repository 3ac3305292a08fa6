using Vlm2Vec.OnnxRuntime.Tests.Support;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Export;
using Vlm2Vec.TorchSharp.Modeling;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Vlm2Vec.OnnxRuntime.Tests;

/// <summary>
/// ORT vs the TorchSharp model on the same random weights, for text, image, mixed and padded (left and right) batches,
/// with and without a DoRA adapter (TorchSharp runs it unmerged, the bundle has it merged): float32 embeddings within
/// 1e-5 and final hidden states within 1e-4 on real tokens; float16 cosine ≥ 0.999.
/// </summary>
[Collection(RandomModelsCollection.Name)]
public sealed class TorchSharpParityTests(RandomModels models, ITestOutputHelper output)
{
    public static TheoryData<string, bool> Batches => new()
    {
        { "text", false }, { "image", false }, { "mixed", false }, { "mixed_right_padded", false }, { "chat_mrope", false },
        { "text", true }, { "mixed", true }, { "chat_mrope", true },
    };

    [Theory]
    [MemberData(nameof(Batches))]
    public async Task Float32_embeddings_match_TorchSharp(string batchName, bool adapter)
    {
        using var ort = OnnxVlm2VecEncoder.FromBundle(models.Bundle(adapter));
        var batch = Batch(ort, batchName);
        var reference = Embeddings(adapter ? models.AdaptedModel : models.Model, batch);

        var actual = await ort.EncodeAsync(batch);

        var error = Numerics.MaxAbs(reference, actual);
        Assert.True(error <= 1e-5, $"{batchName} (adapter {adapter}): embeddings max abs error {error:E3}");
        output.WriteLine($"{batchName}{(adapter ? " + DoRA" : string.Empty)}: {batch.BatchSize}×{batch.SequenceLength}, {batch.ImageCount} images; embeddings max abs error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void Float32_hidden_states_match_TorchSharp_on_real_tokens(string batchName, bool adapter)
    {
        var bundle = models.Bundle(adapter, diagnostics: true);
        using var ort = OnnxVlm2VecEncoder.FromBundle(bundle);
        var batch = Batch(ort, batchName);
        using var runner = new BundleGraphRunner(bundle);
        var (_, hidden) = runner.Text(batch, runner.ImageEmbeds(batch, 64), 64);

        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var model = adapter ? models.AdaptedModel : models.Model;
        var expected = model.forward(Input(batch)).LastHiddenState.contiguous().data<float>().ToArray();

        double worst = 0;
        for (var token = 0; token < batch.AttentionMask.Length; token++)
        {
            if (batch.AttentionMask[token] == 1)
            {
                worst = Math.Max(worst, Numerics.MaxAbs(expected.AsSpan(token * 64, 64), hidden.AsSpan(token * 64, 64)));
            }
        }

        Assert.True(worst <= 1e-4, $"{batchName} (adapter {adapter}): hidden states max abs error {worst:E3}");
        output.WriteLine($"{batchName}{(adapter ? " + DoRA" : string.Empty)}: hidden states (real tokens) max abs error {worst:E2}");
    }

    [Theory]
    [InlineData("mixed", false)]
    [InlineData("chat_mrope", true)]
    public async Task Float16_embeddings_keep_cosine_0_999_with_TorchSharp_float32(string batchName, bool adapter)
    {
        using var ort = OnnxVlm2VecEncoder.FromBundle(models.Bundle(adapter, dtype: Vlm2VecExportDType.Float16));
        var batch = Batch(ort, batchName);
        var reference = Embeddings(adapter ? models.AdaptedModel : models.Model, batch);

        var actual = await ort.EncodeAsync(batch);

        var cosine = Numerics.MinCosine(reference, actual);
        Assert.True(cosine >= 0.999, $"{batchName}: float16 minimum cosine {cosine:F6}");
        output.WriteLine($"{batchName}{(adapter ? " + DoRA" : string.Empty)}: float16 1 - min cosine {1 - cosine:E1}");
    }

    [Fact]
    public async Task A_float16_embedding_table_is_the_float32_bundle_with_rounded_rows_at_half_the_size()
    {
        var root = Path.Combine(models.Root, "fp16-table");
        using var scope = NewDisposeScope();
        var original = models.Model.state_dict();
        var rounded = original.ToDictionary(kv => kv.Key, kv => kv.Key == "model.embed_tokens.weight" ? kv.Value.to(ScalarType.Float16).to(ScalarType.Float32) : kv.Value);
        var options = new Vlm2VecExportOptions { TokenizerFolder = models.TokenizerFolder, Overwrite = true };
        var plainFolder = Path.Combine(root, "rounded-fp32-table");
        var halfFolder = Path.Combine(root, "rounded-fp16-table");
        var originalHalfFolder = Path.Combine(root, "original-fp16-table");
        await Vlm2VecOnnxExporter.ExportAsync(models.Config, rounded, plainFolder, options);
        await Vlm2VecOnnxExporter.ExportAsync(models.Config, rounded, halfFolder, new Vlm2VecExportOptions { TokenizerFolder = models.TokenizerFolder, Overwrite = true, Float16EmbeddingTable = true });
        await Vlm2VecOnnxExporter.ExportAsync(models.Config, original, originalHalfFolder, new Vlm2VecExportOptions { TokenizerFolder = models.TokenizerFolder, Overwrite = true, Float16EmbeddingTable = true });

        using var plain = OnnxVlm2VecEncoder.FromBundle(plainFolder);
        using var half = OnnxVlm2VecEncoder.FromBundle(halfFolder);
        using var originalHalf = OnnxVlm2VecEncoder.FromBundle(originalHalfFolder);
        var batch = Batch(plain, "mixed");

        // float16 → float32 is exact: with pre-rounded rows the two bundles compute the same thing.
        Assert.True(Numerics.MaxAbs((await plain.EncodeAsync(batch)).SelectMany(row => row).ToArray(), await half.EncodeAsync(batch)) <= 1e-6);
        var tableBytes = models.Config.VocabSize * (long)models.Config.HiddenSize * 2;
        var saved = new FileInfo(Path.Combine(plainFolder, "text.onnx_data")).Length - new FileInfo(Path.Combine(halfFolder, "text.onnx_data")).Length;
        Assert.InRange(saved, tableBytes - 8192, tableBytes + 8192);

        // From the unrounded checkpoint, the rounding of the input rows barely moves the embeddings.
        var cosine = Numerics.MinCosine(Embeddings(models.Model, batch), await originalHalf.EncodeAsync(batch));
        Assert.True(cosine >= 0.9999, $"fp16 table: minimum cosine {cosine:F6}");
    }

    [Fact]
    public void The_adapter_changes_the_embeddings()
    {
        using var ort = OnnxVlm2VecEncoder.FromBundle(models.Bundle());
        var batch = Batch(ort, "mixed");
        Assert.True(Numerics.MaxAbs(Embeddings(models.Model, batch), Embeddings(models.AdaptedModel, batch).Chunk(64).ToArray()) > 1e-2);
    }

    private static float[] Embeddings(Qwen2VlForConditionalGeneration model, CollatedBatch batch)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        return model.forward(Input(batch)).Embeddings.contiguous().data<float>().ToArray();
    }

    private static Qwen2VlForwardInput Input(CollatedBatch batch)
    {
        long b = batch.BatchSize, l = batch.SequenceLength;
        return new Qwen2VlForwardInput
        {
            InputIds = tensor(batch.InputIds, [b, l]),
            AttentionMask = tensor(batch.AttentionMask, [b, l]),
            PositionIds = tensor(batch.PositionIds, [3, b, l]),
            ImageTokenMask = tensor(batch.ImageTokenMask, [b, l]),
            PixelValues = batch.ImageCount > 0 ? tensor(batch.PixelValues, [batch.TotalPatches, batch.PatchRowLength]) : null,
            ImageGridThw = batch.ImageCount > 0 ? tensor(batch.ImageGridThw, [batch.ImageCount, 3]) : null,
        };
    }

    /// <summary>Real preprocessing (tokenizer, image processor, collator) of named input sets.</summary>
    private CollatedBatch Batch(OnnxVlm2VecEncoder encoder, string name)
    {
        var images = Path.Combine(ReferenceCases.Root, "images");
        ImageInput Image(string file) => ImageInput.FromFile(Path.Combine(images, file + ".png"));
        var preprocessor = encoder.Preprocessor;
        if (name == "mixed_right_padded")
        {
            preprocessor = new Vlm2VecPreprocessor(models.Config, encoder.Bundle.Tokenizer,
                ImageProcessorConfig.Load(encoder.Bundle.PathOf(Vlm2VecBundle.PreprocessorConfigFileName)), new PreprocessorOptions { Padding = PaddingSide.Right });
        }

        MultimodalInput[] inputs = name switch
        {
            "text" => [MultimodalInput.FromText("a cat on a mat", "Find a caption:"), MultimodalInput.FromText("dogs"), MultimodalInput.FromText("a much longer query about several things at once")],
            "image" => [MultimodalInput.FromImage(Image("img_h56_w84"), "Represent the image."), MultimodalInput.FromImage(Image("img_h56_w56"), "Represent the image.", "and some text")],
            "mixed" or "mixed_right_padded" =>
            [
                MultimodalInput.FromImage(Image("img_h84_w56"), "Represent the image."),
                MultimodalInput.FromText("just some text that is longer than the others by a fair bit"),
                MultimodalInput.FromImage(Image("img_h28_w56"), "Which one?", "short"),
            ],
            "chat_mrope" =>
            [
                new MultimodalInput { Prompt = "<|vision_start|><|image_pad|><|vision_end|>What is shown?", Images = [Image("img_h56_w84")] },
                MultimodalInput.FromText("plain text row"),
                new MultimodalInput { Prompt = "two: <|vision_start|><|image_pad|><|vision_end|> and <|vision_start|><|image_pad|><|vision_end|>", Images = [Image("img_h56_w56"), Image("img_h84_w56")] },
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
        var batch = preprocessor.Collate(inputs.Select(preprocessor.Prepare).ToList());
        if (name == "chat_mrope")
        {
            // The vision markers really switch rows to M-RoPE: the h/w streams differ from the t stream somewhere.
            var cells = batch.BatchSize * batch.SequenceLength;
            Assert.Contains(Enumerable.Range(0, cells), i => batch.PositionIds[i] != batch.PositionIds[cells + i]);
        }

        if (name == "mixed_right_padded")
        {
            Assert.Equal(PaddingSide.Right, batch.Padding);
        }

        return batch;
    }
}
