using TorchSharp.PyBridge;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Modeling;
using static TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

/// <summary>
/// Parity with Hugging Face transformers (v4.45.1, eager, fp32) on the tiny checkpoints of
/// <c>Fixtures/reference</c>: position ids exactly, vision tower intermediates, every layer's hidden states on every
/// position (pads included: the mask is built exactly like the reference's), pooled embeddings, logits, merged adapters.
/// </summary>
public sealed class ReferenceParityTests
{
    private const double HiddenTolerance = 1e-4;
    private const double EmbeddingTolerance = 1e-5;

    public ReferenceParityTests() => TorchSharpRuntime.EnsureLoaded();

    public static TheoryData<string, string> Cases => new()
    {
        { "cases/tiny-qwen2vl-tied/text_left_padded", "tiny-qwen2vl-tied" },
        { "cases/tiny-qwen2vl-tied/vlm2vec_image_mixed", "tiny-qwen2vl-tied" },
        { "cases/tiny-qwen2vl-tied/chat_mrope_left_padded", "tiny-qwen2vl-tied" },
        { "cases/tiny-qwen2vl-tied/right_padded_mixed", "tiny-qwen2vl-tied" },
        { "cases/tiny-qwen2vl-tied/single_chat_image", "tiny-qwen2vl-tied" },
        { "cases/tiny-qwen2vl-untied/chat_two_images_left_padded", "tiny-qwen2vl-untied-sharded" },
        { "cases/tiny-qwen2vl-untied/text_right_padded", "tiny-qwen2vl-untied-sharded" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_the_reference(string caseFolder, string modelFolder)
    {
        var fixture = ReferenceFixtures.Case(caseFolder);
        using var model = Qwen2VlForConditionalGeneration.FromPretrained(
            ReferenceFixtures.ModelFolder(modelFolder), new Qwen2VlLoadOptions { IncludeLanguageModelHead = true });
        using var scope = NewDisposeScope();
        using var inference = inference_mode();

        var input = Inputs(fixture, positions: false, hiddenStates: true);
        var output = model.forward(input);

        // Position ids: computed like get_rope_index, exactly (pads hold 1).
        Assert.Equal(fixture.Output("position_ids").L, output.PositionIds.contiguous().data<long>().ToArray());

        // Every entry of the hidden-states tuple, every position.
        var expectedStates = fixture.Output("hidden_states");
        Assert.Equal(expectedStates.Shape[0], output.HiddenStates!.Count);
        var stride = (int)(expectedStates.F.Length / expectedStates.Shape[0]);
        for (var i = 0; i < output.HiddenStates.Count; i++)
        {
            AssertClose(expectedStates.F.AsSpan(i * stride, stride), output.HiddenStates[i], HiddenTolerance, $"hidden_states[{i}]");
        }

        AssertClose(fixture.Output("last_hidden_state").F, output.LastHiddenState, HiddenTolerance, "last_hidden_state");
        AssertClose(fixture.Output("embeddings").F, output.Embeddings, EmbeddingTolerance, "embeddings");

        // Logits at the pooled positions (tied or separate lm_head).
        var pooledIndex = fixture.Output("pooled_index").L;
        var rows = arange(pooledIndex.Length, dtype: ScalarType.Int64);
        var pooledHidden = output.LastHiddenState[TensorIndex.Tensor(rows), TensorIndex.Tensor(tensor(pooledIndex))];
        AssertClose(fixture.Output("pooled_logits").F, model.Logits(pooledHidden), HiddenTolerance, "pooled_logits");

        // The last layer's raw output, before the final norm.
        var (_, _, prenorm) = model.LanguageModel.Forward(output.HiddenStates[0], output.PositionIds, input.AttentionMask, false, keepLastLayerOutput: true);
        AssertClose(fixture.Output("last_layer_output_prenorm").F, prenorm!, HiddenTolerance, "last_layer_output_prenorm");

        // Explicit positions (the collated-batch path) give the same result.
        var again = model.forward(Inputs(fixture, positions: true, hiddenStates: false));
        AssertClose(fixture.Output("embeddings").F, again.Embeddings, EmbeddingTolerance, "embeddings with given position ids");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Vision_tower_matches_the_reference(string caseFolder, string modelFolder)
    {
        var fixture = ReferenceFixtures.Case(caseFolder);
        if (fixture.Input("pixel_values") is not { } pixels)
        {
            Assert.False(fixture.Has("image_embeds"), "a case without pixel values has image embeddings");
            return;
        }

        using var model = Qwen2VlForConditionalGeneration.FromPretrained(ReferenceFixtures.ModelFolder(modelFolder));
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var grid = fixture.Input("image_grid_thw")!.L;
        var (merged, patchEmbed, blocks) = model.Visual.ForwardWithIntermediates(tensor(pixels.F, pixels.Shape), grid);

        AssertClose(fixture.Output("vision_patch_embed").F, patchEmbed, HiddenTolerance, "vision_patch_embed");
        var expectedBlocks = fixture.Output("vision_block_outputs");
        var stride = (int)(expectedBlocks.F.Length / expectedBlocks.Shape[0]);
        Assert.Equal(expectedBlocks.Shape[0], blocks.Count);
        for (var i = 0; i < blocks.Count; i++)
        {
            AssertClose(expectedBlocks.F.AsSpan(i * stride, stride), blocks[i], HiddenTolerance, $"vision_block_outputs[{i}]");
        }

        AssertClose(fixture.Output("image_embeds").F, merged, HiddenTolerance, "image_embeds");

        var ids = tensor(Qwen2VisionTransformer.RowColumnIds(grid, model.Config.Vision.SpatialMergeSize), [pixels.Shape[0], 2]);
        AssertClose(fixture.Output("vision_rotary_angles").F, RotaryEmbedding.VisionAngles(ids, model.Config.Vision.HeadDim), 1e-6, "vision_rotary_angles");

        var cumulative = new List<long> { 0 };
        foreach (var length in Qwen2VisionTransformer.SegmentLengths(grid))
        {
            cumulative.Add(cumulative[^1] + length);
        }

        Assert.Equal(fixture.Output("vision_cu_seqlens").L, cumulative);
    }

    [Fact]
    public void Bfloat16_checkpoint_is_the_rounded_fp32_checkpoint_and_matches_the_reference()
    {
        using var fp32 = Qwen2VlForConditionalGeneration.FromPretrained(ReferenceFixtures.ModelFolder("tiny-qwen2vl-tied"));
        using var bf16 = Qwen2VlForConditionalGeneration.FromPretrained(ReferenceFixtures.ModelFolder("tiny-qwen2vl-tied-bf16"), new Qwen2VlLoadOptions { DType = ScalarType.BFloat16 });
        var rounded = fp32.named_parameters().ToDictionary(p => p.name, p => p.parameter.to(ScalarType.BFloat16));
        foreach (var (name, p) in bf16.named_parameters())
        {
            Assert.True(p.equal(rounded[name]).all().item<bool>(), $"{name} is not the round-to-nearest-even bf16 of the fp32 weight");
        }

        // bf16 weights upcast to fp32, fp32 compute: the reference's numbers.
        using var upcast = Qwen2VlForConditionalGeneration.FromPretrained(ReferenceFixtures.ModelFolder("tiny-qwen2vl-tied-bf16"));
        var fixture = ReferenceFixtures.Case("cases/tiny-qwen2vl-tied-bf16/vlm2vec_image_mixed");
        AssertOutputs(upcast, fixture);

        // bf16 compute stays close to the fp32 reference.
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var embeddings = bf16.forward(Inputs(fixture, positions: false, hiddenStates: false)).Embeddings.to(ScalarType.Float32);
        var expected = fixture.Output("embeddings");
        var cosine = nn.functional.cosine_similarity(embeddings, tensor(expected.F, expected.Shape), 1);
        Assert.True(cosine.min().item<float>() >= 0.99f, $"bf16 compute: min cosine {cosine.min().item<float>()}");
    }

    [Fact]
    public void Pytorch_bin_checkpoint_loads_the_same_weights()
    {
        using var safetensors = Qwen2VlForConditionalGeneration.FromPretrained(ReferenceFixtures.ModelFolder("tiny-qwen2vl-tied"));
        using var bin = Qwen2VlForConditionalGeneration.FromPretrained(ReferenceFixtures.ModelFolder("tiny-qwen2vl-tied-bin"));
        var expected = safetensors.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in bin.named_parameters())
        {
            Assert.True(p.equal(expected[name]).all().item<bool>(), name);
        }
    }

    public static TheoryData<string, string, bool> Adapters => new()
    {
        { "dora", "dora-expected", false },
        { "dora", "dora-expected", true },
        { "dora-newlayout", "dora-expected", false },
        { "lora", "lora-expected", false },
    };

    [Theory]
    [MemberData(nameof(Adapters))]
    public void Merged_adapter_matches_the_reference(string adapter, string expectedFolder, bool useBin)
    {
        using var binCopy = new TempFolder();
        var adapterPath = ReferenceFixtures.AdapterFolder(adapter);
        if (useBin)
        {
            File.Copy(Path.Combine(adapterPath, "adapter_config.json"), binCopy.Combine("adapter_config.json"));
            File.Copy(Path.Combine(adapterPath, "adapter_model.bin"), binCopy.Combine("adapter_model.bin"));
            adapterPath = binCopy.Path;
        }

        using var model = Qwen2VlForConditionalGeneration.FromPretrained(
            ReferenceFixtures.ModelFolder("tiny-qwen2vl-tied"), new Qwen2VlLoadOptions { AdapterPath = adapterPath });
        var expectedWeights = Safetensors.LoadStateDict(Path.Combine(ReferenceFixtures.AdapterFolder(expectedFolder), "merged_weights.safetensors"));
        Assert.NotEmpty(expectedWeights);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, weight) in expectedWeights)
        {
            var diff = (parameters[name] - weight).abs().max().item<float>();
            Assert.True(diff <= EmbeddingTolerance, $"{name}: merged weight differs by {diff}");
        }

        AssertOutputs(model, ReferenceFixtures.Case($"adapters/{expectedFolder}/vlm2vec_image_mixed"));
    }

    [Fact]
    public async Task Encoder_on_a_collated_batch_matches_the_reference_embeddings()
    {
        var fixture = ReferenceFixtures.Case("cases/tiny-qwen2vl-tied/chat_mrope_left_padded");
        var model = Qwen2VlForConditionalGeneration.FromPretrained(ReferenceFixtures.ModelFolder("tiny-qwen2vl-tied"));
        using var encoder = new TorchSharpVlm2VecEncoder(model, null, "tiny-qwen2vl-tied", null, validate: false);
        var ids = fixture.Input("input_ids")!;
        var mask = fixture.Input("attention_mask")!.L;
        var pixels = fixture.Input("pixel_values")!;
        var grid = fixture.Input("image_grid_thw")!.L;
        int batch = (int)ids.Shape[0], length = (int)ids.Shape[1];
        var imageTokens = ids.L.Select((id, i) => id == model.Config.ImageTokenId && mask[i] == 1 ? 1L : 0L).ToArray();
        var vectors = await encoder.EncodeAsync(new CollatedBatch
        {
            BatchSize = batch,
            SequenceLength = length,
            InputIds = ids.L,
            AttentionMask = mask,
            PositionIds = fixture.Output("position_ids").L,
            ImageTokenMask = imageTokens,
            PixelValues = pixels.F,
            ImageGridThw = grid,
            ImagesPerRow = [2, 1, 0],
            PooledIndex = fixture.Output("pooled_index").L.Select(i => (int)i).ToArray(),
            Padding = PaddingSide.Left,
            PatchRowLength = (int)pixels.Shape[1],
        });

        var expected = fixture.Output("embeddings").F;
        var dimension = model.Dimension;
        for (var b = 0; b < batch; b++)
        {
            var diff = TinyQwen2Vl.MaxAbsDiff(expected.AsSpan(b * dimension, dimension).ToArray(), vectors[b]);
            Assert.True(diff <= EmbeddingTolerance, $"row {b}: embedding differs by {diff}");
        }
    }

    private static void AssertOutputs(Qwen2VlForConditionalGeneration model, ReferenceCase fixture)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var output = model.forward(Inputs(fixture, positions: false, hiddenStates: false));
        Assert.Equal(fixture.Output("position_ids").L, output.PositionIds.contiguous().data<long>().ToArray());
        AssertClose(fixture.Output("last_hidden_state").F, output.LastHiddenState, HiddenTolerance, "last_hidden_state");
        AssertClose(fixture.Output("embeddings").F, output.Embeddings, EmbeddingTolerance, "embeddings");
        if (fixture.Has("image_embeds"))
        {
            var pixels = fixture.Input("pixel_values")!;
            var features = model.GetImageFeatures(tensor(pixels.F, pixels.Shape), tensor(fixture.Input("image_grid_thw")!.L, [fixture.Input("image_grid_thw")!.Shape[0], 3]));
            AssertClose(fixture.Output("image_embeds").F, features, HiddenTolerance, "image_embeds");
        }
    }

    private static Qwen2VlForwardInput Inputs(ReferenceCase fixture, bool positions, bool hiddenStates)
    {
        var ids = fixture.Input("input_ids")!;
        var mask = fixture.Input("attention_mask")!;
        var pixels = fixture.Input("pixel_values");
        var grid = fixture.Input("image_grid_thw");
        return new Qwen2VlForwardInput
        {
            InputIds = tensor(ids.L, ids.Shape),
            AttentionMask = tensor(mask.L, mask.Shape),
            PixelValues = pixels is null ? null : tensor(pixels.F, pixels.Shape),
            ImageGridThw = grid is null ? null : tensor(grid.L, grid.Shape),
            PositionIds = positions ? tensor(fixture.Output("position_ids").L, fixture.Output("position_ids").Shape) : null,
            OutputHiddenStates = hiddenStates,
        };
    }

    private static void AssertClose(ReadOnlySpan<float> expected, Tensor actual, double tolerance, string what)
    {
        var values = actual.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        double worst = 0;
        var at = -1;
        for (var i = 0; i < values.Length; i++)
        {
            var diff = Math.Abs((double)expected[i] - values[i]);
            if (!(diff <= worst))
            {
                worst = diff;
                at = i;
            }
        }

        Assert.True(worst <= tolerance, $"{what}: max abs diff {worst} at flat index {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? values[at] : 0)}), tolerance {tolerance}");
    }
}
