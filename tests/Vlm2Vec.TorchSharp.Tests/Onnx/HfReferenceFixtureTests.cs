using Microsoft.ML.OnnxRuntime;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>
/// The blocks composed into the tiny Qwen2-VL reference models (<see cref="TinyQwen2VlGraph"/>) against the numbers HF
/// transformers 4.45.1 computed for them (Fixtures/reference; tolerances from its README: hidden states 1e-4,
/// embeddings 1e-5, indices exact).
/// </summary>
public sealed class HfReferenceFixtureTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases => new()
    {
        { "tiny-qwen2vl-tied", "text_left_padded" },
        { "tiny-qwen2vl-tied", "vlm2vec_image_mixed" },
        { "tiny-qwen2vl-tied", "chat_mrope_left_padded" },
        { "tiny-qwen2vl-tied", "right_padded_mixed" },
        { "tiny-qwen2vl-tied", "single_chat_image" },
        { "tiny-qwen2vl-untied", "chat_two_images_left_padded" },
        { "tiny-qwen2vl-untied", "text_right_padded" },
    };

    public static TheoryData<string, string> ImageCases => new()
    {
        { "tiny-qwen2vl-tied", "vlm2vec_image_mixed" },
        { "tiny-qwen2vl-tied", "chat_mrope_left_padded" },
        { "tiny-qwen2vl-untied", "chat_two_images_left_padded" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decoder_reproduces_HF_last_hidden_state_at_every_position(string model, string caseName)
    {
        var folder = ReferenceFixtures.Case(model, caseName);
        var (hiddenStates, hiddenShape) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "hidden_states.npy"));
        var (mask, maskShape) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "attention_mask.npy"));
        var (positions, positionShape) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "position_ids.npy"));
        var (expected, _) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "last_hidden_state.npy"));
        var embedsLength = (int)(hiddenShape[1] * hiddenShape[2] * hiddenShape[3]);

        var g = new OnnxGraphBuilder();
        var tiny = new TinyQwen2VlGraph(ReferenceFixtures.Model(model), g);
        var embeds = g.AddInput("inputs_embeds", DataType.Float, ["batch", "sequence", tiny.Hidden]);
        var m = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
        var p = g.AddInput("position_ids", DataType.Int64, [3, "batch", "sequence"]);
        g.AddOutput(tiny.Decoder(embeds, m, p, AttentionFormulation.MultiHeadAttention), DataType.Float, ["batch", "sequence", tiny.Hidden], "last_hidden_state");

        var actual = OrtTestRunner.Run(g,
        [
            OrtInput.Of("inputs_embeds", hiddenStates[..embedsLength], hiddenShape[1], hiddenShape[2], hiddenShape[3]),
            OrtInput.Of("attention_mask", mask, maskShape), OrtInput.Of("position_ids", positions, positionShape),
        ])["last_hidden_state"].Floats;

        var error = MaxAbs(expected, actual);
        Assert.True(error <= 1e-4, $"last_hidden_state max abs error {error:E3}");
        output.WriteLine($"{model}/{caseName}: decoder ({tiny.Layers} layers) max abs error {error:E2} over all positions");
    }

    [Theory]
    [MemberData(nameof(ImageCases))]
    public void Vision_tower_reproduces_HF_blocks_and_image_features(string model, string caseName)
    {
        var folder = ReferenceFixtures.Case(model, caseName);
        var (pixels, pixelShape) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "pixel_values.npy"));
        var (grid, _) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "image_grid_thw.npy"));
        var (blocks, blockShape) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "vision_block_outputs.npy"));
        var (features, _) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "image_embeds.npy"));
        var (angles, _) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "vision_rotary_angles.npy"));
        var (cuExpected, _) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "vision_cu_seqlens.npy"));
        var (rotaryIds, cuSeqlens) = VisionInputs(grid);
        Assert.Equal(cuExpected, cuSeqlens);

        var g = new OnnxGraphBuilder();
        var tiny = new TinyQwen2VlGraph(ReferenceFixtures.Model(model), g);
        var pv = g.AddInput("pixel_values", DataType.Float, ["patches", 1176]);
        var ids = g.AddInput("rotary_pos_ids", DataType.Int64, ["patches", 2]);
        var cu = g.AddInput("cu_seqlens", DataType.Int64, ["segments_plus_one"]);
        var (imageFeatures, blockOutputs) = tiny.Vision(pv, ids, cu, AttentionFormulation.MultiHeadAttention);
        g.AddOutput(imageFeatures, DataType.Float, ["tokens", tiny.Hidden], "image_embeds");
        for (var i = 0; i < blockOutputs.Length; i++)
        {
            g.AddOutput(blockOutputs[i], DataType.Float, ["patches", tiny.VisionWidth], $"block_{i}");
        }

        var (cos, _) = g.VisionRotaryCosSin(ids, RotaryExactnessTests.InvFreq(10_000.0, tiny.VisionHeadDim / 2));
        g.AddOutput(cos, DataType.Float, ["patches", tiny.VisionHeadDim / 2], "rotary_cos");

        var outputs = OrtTestRunner.Run(g,
        [
            OrtInput.Of("pixel_values", pixels, pixelShape), OrtInput.Of("rotary_pos_ids", rotaryIds, rotaryIds.Length / 2, 2),
            OrtInput.Of("cu_seqlens", cuSeqlens, cuSeqlens.Length),
        ]);

        var cosError = MaxAbs(angles.Select(a => (float)Math.Cos(a)).ToArray(), outputs["rotary_cos"].Floats);
        Assert.True(cosError <= 1e-6, $"vision rotary cos error {cosError:E3}");
        var blockSize = (int)(blockShape[1] * blockShape[2]);
        for (var i = 0; i < blockShape[0]; i++)
        {
            var blockError = MaxAbs(blocks[(i * blockSize)..((i + 1) * blockSize)], outputs[$"block_{i}"].Floats);
            Assert.True(blockError <= 1e-4, $"vision block {i} max abs error {blockError:E3}");
        }

        var error = MaxAbs(features, outputs["image_embeds"].Floats);
        Assert.True(error <= 1e-4, $"image_embeds max abs error {error:E3}");
        output.WriteLine($"{model}/{caseName}: vision tower ({tiny.VisionDepth} blocks, {pixelShape[0]} patches) image_embeds max abs error {error:E2}; rotary cos {cosError:E2}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Whole_graph_written_with_external_data_reproduces_HF_embeddings(string model, string caseName)
    {
        var folder = ReferenceFixtures.Case(model, caseName);
        var (inputIds, idShape) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "input_ids.npy"));
        var (mask, _) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "attention_mask.npy"));
        var (positions, positionShape) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "position_ids.npy"));
        var (expected, _) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "embeddings.npy"));
        var (expectedIndex, _) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "pooled_index.npy"));
        var hasImages = File.Exists(Path.Combine(folder, "pixel_values.npy"));
        var (pixels, pixelShape) = hasImages ? ReferenceFixtures.ReadFloats(Path.Combine(folder, "pixel_values.npy")) : ([], [0L, 1176L]);
        var (grid, _) = hasImages ? ReferenceFixtures.ReadLongs(Path.Combine(folder, "image_grid_thw.npy")) : ([], []);
        var (rotaryIds, cuSeqlens) = VisionInputs(grid);

        // One graph for every batch: text-only batches feed zero patches (cu_seqlens = [0]).
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { DocString = $"tiny Qwen2-VL VLM2Vec encoder ({model})" });
        var tiny = new TinyQwen2VlGraph(ReferenceFixtures.Model(model), g);
        var ids = g.AddInput("input_ids", DataType.Int64, ["batch", "sequence"]);
        var m = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
        var p = g.AddInput("position_ids", DataType.Int64, [3, "batch", "sequence"]);
        var pv = g.AddInput("pixel_values", DataType.Float, ["patches", 1176]);
        var rid = g.AddInput("rotary_pos_ids", DataType.Int64, ["patches", 2]);
        var cu = g.AddInput("cu_seqlens", DataType.Int64, ["segments_plus_one"]);
        var features = tiny.Vision(pv, rid, cu, AttentionFormulation.MultiHeadAttention).Features;
        var hidden = tiny.Decoder(tiny.Embed(ids, features), m, p, AttentionFormulation.MultiHeadAttention);
        g.AddOutput(g.L2Normalize(g.PoolLastToken(hidden, m)), DataType.Float, ["batch", tiny.Hidden], "embeddings");
        g.AddOutput(g.LastTokenIndex(m), DataType.Int64, ["batch"], "pooled_index");
        g.AddMetadata("vlm2vec.test_case", $"{model}/{caseName}");

        using var temp = new TempFolder("onnx-tiny-qwen2vl");
        var written = OnnxModelWriter.Write(g, temp.Combine("model.onnx"), new OnnxWriteOptions { InlineThresholdBytes = 256 });
        Assert.NotNull(written.ExternalDataPath);
        using var session = new InferenceSession(written.ModelPath);
        var outputs = OrtTestRunner.Run(session,
        [
            OrtInput.Of("input_ids", inputIds, idShape), OrtInput.Of("attention_mask", mask, idShape),
            OrtInput.Of("position_ids", positions, positionShape), OrtInput.Of("pixel_values", pixels, pixelShape),
            OrtInput.Of("rotary_pos_ids", rotaryIds, rotaryIds.Length / 2, 2), OrtInput.Of("cu_seqlens", cuSeqlens, cuSeqlens.Length),
        ]);

        Assert.Equal(expectedIndex, outputs["pooled_index"].Longs);
        var error = MaxAbs(expected, outputs["embeddings"].Floats);
        Assert.True(error <= 1e-5, $"embeddings max abs error {error:E3}");
        output.WriteLine($"{model}/{caseName}: whole graph ({g.NodeCount} nodes, {written.ExternalTensorCount} external tensors) embeddings max abs error {error:E2}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Whole_graph_in_float16_keeps_cosine_0_999_with_HF_float32_embeddings(string model, string caseName)
    {
        var folder = ReferenceFixtures.Case(model, caseName);
        var (inputIds, idShape) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "input_ids.npy"));
        var (mask, _) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "attention_mask.npy"));
        var (positions, positionShape) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "position_ids.npy"));
        var (expected, _) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "embeddings.npy"));
        var hasImages = File.Exists(Path.Combine(folder, "pixel_values.npy"));
        var (pixels, pixelShape) = hasImages ? ReferenceFixtures.ReadFloats(Path.Combine(folder, "pixel_values.npy")) : ([], [0L, 1176L]);
        var (grid, _) = hasImages ? ReferenceFixtures.ReadLongs(Path.Combine(folder, "image_grid_thw.npy")) : ([], []);
        var (rotaryIds, cuSeqlens) = VisionInputs(grid);

        var g = new OnnxGraphBuilder();
        var tiny = new TinyQwen2VlGraph(ReferenceFixtures.Model(model), g, DataType.Float16, fusedSkipNorms: true);
        var ids = g.AddInput("input_ids", DataType.Int64, ["batch", "sequence"]);
        var m = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
        var p = g.AddInput("position_ids", DataType.Int64, [3, "batch", "sequence"]);
        var pv = g.AddInput("pixel_values", DataType.Float16, ["patches", 1176]);
        var rid = g.AddInput("rotary_pos_ids", DataType.Int64, ["patches", 2]);
        var cu = g.AddInput("cu_seqlens", DataType.Int64, ["segments_plus_one"]);
        var features = tiny.Vision(pv, rid, cu, AttentionFormulation.MultiHeadAttention).Features;
        var hidden = tiny.Decoder(tiny.Embed(ids, features), m, p, AttentionFormulation.MultiHeadAttention);
        g.AddOutput(g.L2Normalize(g.Cast(g.PoolLastToken(hidden, m), DataType.Float)), DataType.Float, ["batch", tiny.Hidden], "embeddings");

        var actual = OrtTestRunner.Run(g,
        [
            OrtInput.Of("input_ids", inputIds, idShape), OrtInput.Of("attention_mask", mask, idShape),
            OrtInput.Of("position_ids", positions, positionShape), OrtInput.Of("pixel_values", Numerics.ToHalf(pixels), pixelShape),
            OrtInput.Of("rotary_pos_ids", rotaryIds, rotaryIds.Length / 2, 2), OrtInput.Of("cu_seqlens", cuSeqlens, cuSeqlens.Length),
        ])["embeddings"].Floats;

        var minCosine = 1.0;
        for (var b = 0; b < idShape[0]; b++)
        {
            var e = new ArraySegment<float>(expected, b * tiny.Hidden, tiny.Hidden).Select(v => (double)v).ToArray();
            minCosine = Math.Min(minCosine, Numerics.Cosine(e, new ArraySegment<float>(actual, b * tiny.Hidden, tiny.Hidden)));
        }

        Assert.True(minCosine >= 0.999, $"float16 embeddings: minimum cosine {minCosine:F6}");
        output.WriteLine($"{model}/{caseName}: float16 whole graph (fused skip norms), 1 − min cosine {1 - minCosine:E1}, max abs error {MaxAbs(expected, actual):E2}");
    }

    [Theory]
    [InlineData(nameof(AttentionFormulation.MatMulSoftmax), 21, true)]
    [InlineData(nameof(AttentionFormulation.OnnxAttention), 23, false)]
    [InlineData(nameof(AttentionFormulation.GroupQueryAttention), 21, false)]
    public void Other_attention_formulations_in_the_decoder(string formulationName, int opset, bool exactAtPads)
    {
        var formulation = Enum.Parse<AttentionFormulation>(formulationName);
        var folder = ReferenceFixtures.Case("tiny-qwen2vl-tied", "chat_mrope_left_padded");
        var (hiddenStates, hiddenShape) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "hidden_states.npy"));
        var (mask, maskShape) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "attention_mask.npy"));
        var (positions, positionShape) = ReferenceFixtures.ReadLongs(Path.Combine(folder, "position_ids.npy"));
        var (expected, _) = ReferenceFixtures.ReadFloats(Path.Combine(folder, "last_hidden_state.npy"));
        var embedsLength = (int)(hiddenShape[1] * hiddenShape[2] * hiddenShape[3]);

        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
        var tiny = new TinyQwen2VlGraph(ReferenceFixtures.Model("tiny-qwen2vl-tied"), g);
        var embeds = g.AddInput("inputs_embeds", DataType.Float, ["batch", "sequence", tiny.Hidden]);
        var m = g.AddInput("attention_mask", DataType.Int64, ["batch", "sequence"]);
        var p = g.AddInput("position_ids", DataType.Int64, [3, "batch", "sequence"]);
        g.AddOutput(tiny.Decoder(embeds, m, p, formulation), DataType.Float, ["batch", "sequence", tiny.Hidden], "last_hidden_state");

        var actual = OrtTestRunner.Run(g,
        [
            OrtInput.Of("inputs_embeds", hiddenStates[..embedsLength], hiddenShape[1], hiddenShape[2], hiddenShape[3]),
            OrtInput.Of("attention_mask", mask, maskShape), OrtInput.Of("position_ids", positions, positionShape),
        ])["last_hidden_state"].Floats;

        var hidden = tiny.Hidden;
        var real = Enumerable.Range(0, mask.Length).Where(t => mask[t] == 1).SelectMany(t => Enumerable.Range(t * hidden, hidden)).ToArray();
        var realError = MaxAbs(real.Select(i => expected[i]).ToArray(), real.Select(i => actual[i]).ToArray());
        var allError = MaxAbs(expected, actual);
        Assert.True(realError <= 1e-4, $"{formulation}: real-token max abs error {realError:E3}");
        Assert.Equal(exactAtPads, allError <= 1e-4);
        output.WriteLine($"{formulation}: real tokens {realError:E2}, all positions {allError:E2}");
    }

    /// <summary>The ViT's per-patch (row, column) ids and cu_seqlens from image_grid_thw (the collator's job).</summary>
    internal static (long[] RotaryIds, long[] CuSeqlens) VisionInputs(long[] grid)
    {
        var grids = new List<(int, int, int)>();
        var cu = new List<long> { 0 };
        for (var i = 0; i < grid.Length; i += 3)
        {
            grids.Add(((int)grid[i], (int)grid[i + 1], (int)grid[i + 2]));
            for (var t = 0; t < grid[i]; t++)
            {
                cu.Add(cu[^1] + (grid[i + 1] * grid[i + 2]));
            }
        }

        return (RotaryExactnessTests.VisionRowColumnIds(grids), [.. cu]);
    }

    private static double MaxAbs(IReadOnlyList<float> expected, IReadOnlyList<float> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        double worst = 0;
        for (var i = 0; i < expected.Count; i++)
        {
            var d = Math.Abs((double)expected[i] - actual[i]);
            worst = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(worst, d);
        }

        return worst;
    }
}
