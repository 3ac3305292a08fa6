using Microsoft.Extensions.AI;
using Vlm2Vec.Extensions.AI.Tests.Support;

namespace Vlm2Vec.Extensions.AI.Tests.Embeddings;

/// <summary>
/// What the generator makes of each kind of input: every case is checked against the embedder run directly on the
/// <see cref="MultimodalInput"/> the input should become, so a wrong instruction, side, text or image shows up as a
/// different vector.
/// </summary>
public sealed class GeneratorInputTests
{
    private static async Task<float[]> Direct(HashingEncoder encoder, MultimodalInput input) =>
        await new Vlm2VecEmbedder(encoder).EmbedAsync(input);

    private static string TextQuery => new Vlm2VecDefaultInstructions().TextQuery!;

    [Fact]
    public async Task String_and_TextContent_are_text_queries_with_the_default_instruction()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var fromString = await ((IEmbeddingGenerator<string, Embedding<float>>)generator).GenerateAsync(["a dalmatian on grass"]);
        var fromContent = await generator.GenerateAsync([new TextContent("a dalmatian on grass")]);
        var expected = await Direct(encoder, MultimodalInput.FromText("a dalmatian on grass", TextQuery, EmbeddingRole.Query));

        Assert.Equal(expected, TestModel.Vector(fromString[0]));
        Assert.Equal(expected, TestModel.Vector(fromContent[0]));
        Assert.Equal("Find me an everyday image that matches the given caption:", TextQuery);
    }

    [Fact]
    public async Task Images_from_bytes_and_file_uri_are_the_same_image_query()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var result = await generator.GenerateAsync([TestModel.ImageData("dalmatian"), TestModel.ImageUri("dalmatian")]);
        var expected = await Direct(encoder, MultimodalInput.FromImage(ImageInput.FromFile(TestModel.ImagePath("dalmatian")), new Vlm2VecDefaultInstructions().ImageQuery));

        Assert.Equal(expected, TestModel.Vector(result[0]));
        Assert.Equal(expected, TestModel.Vector(result[1]));
        Assert.Equal(HashingEncoder.Dimension, result[0].Dimensions);
    }

    [Fact]
    public async Task Vlm2VecContent_puts_instruction_image_and_text_in_one_input()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var item = Vlm2VecContent.Create("Represent the given image with the following question:", "What animal is this?", TestModel.ImageData("dalmatian"));
        var result = await generator.GenerateAsync([item]);
        var expected = await Direct(encoder, MultimodalInput.FromImage(
            ImageInput.FromFile(TestModel.ImagePath("dalmatian")), "Represent the given image with the following question:", "What animal is this?"));

        Assert.Equal(expected, TestModel.Vector(result[0]));
    }

    [Fact]
    public async Task Several_text_parts_are_joined_by_newlines_after_the_images()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var item = new Vlm2VecContent([new TextContent("first"), TestModel.ImageData("pizza"), new TextContent("second")]) { Instruction = "Describe:" };
        var result = await generator.GenerateAsync([item]);
        var expected = await Direct(encoder, MultimodalInput.FromImage(ImageInput.FromFile(TestModel.ImagePath("pizza")), "Describe:", "first\nsecond"));

        Assert.Equal(expected, TestModel.Vector(result[0]));
    }

    [Fact]
    public async Task Instruction_precedence_is_content_then_item_then_call_then_default()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var call = new EmbeddingGenerationOptions().WithInstruction("Call instruction:");
        var result = await generator.GenerateAsync(
            [
                new Vlm2VecContent([new TextContent("x")]) { Instruction = "Content instruction:" }.WithInstruction("Item instruction:"),
                new TextContent("x").WithInstruction("Item instruction:"),
                new TextContent("x"),
                new TextContent("x").WithInstruction(string.Empty),
            ],
            call);

        Assert.Equal(await Direct(encoder, MultimodalInput.FromText("x", "Content instruction:")), TestModel.Vector(result[0]));
        Assert.Equal(await Direct(encoder, MultimodalInput.FromText("x", "Item instruction:")), TestModel.Vector(result[1]));
        Assert.Equal(await Direct(encoder, MultimodalInput.FromText("x", "Call instruction:")), TestModel.Vector(result[2]));
        Assert.Equal(await Direct(encoder, MultimodalInput.FromText("x")), TestModel.Vector(result[3]));
        Assert.NotEqual(TestModel.Vector(result[0]), TestModel.Vector(result[1]));
    }

    [Fact]
    public async Task Target_role_text_is_the_raw_text_and_image_targets_get_the_target_instruction()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var result = await generator.GenerateAsync(
            [new TextContent("a pizza").WithRole(EmbeddingRole.Target), TestModel.ImageData("pizza").WithRole(EmbeddingRole.Target)]);

        Assert.Equal(await Direct(encoder, MultimodalInput.FromText("a pizza", null, EmbeddingRole.Target)), TestModel.Vector(result[0]));
        Assert.Equal(
            await Direct(encoder, MultimodalInput.FromImage(ImageInput.FromFile(TestModel.ImagePath("pizza")), "Represent the given image.", role: EmbeddingRole.Target)),
            TestModel.Vector(result[1]));
    }

    [Fact]
    public async Task Role_can_be_given_per_call_and_as_json_strings()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var call = new EmbeddingGenerationOptions().WithRole(EmbeddingRole.Target);
        var viaCall = await generator.GenerateAsync([new TextContent("a pizza")], call);
        var viaJson = await generator.GenerateAsync(
            [new TextContent("a pizza") { AdditionalProperties = new() { [Vlm2VecPropertyNames.Role] = System.Text.Json.JsonDocument.Parse("\"Target\"").RootElement } }]);
        var expected = await Direct(encoder, MultimodalInput.FromText("a pizza", null, EmbeddingRole.Target));

        Assert.Equal(expected, TestModel.Vector(viaCall[0]));
        Assert.Equal(expected, TestModel.Vector(viaJson[0]));
    }

    [Fact]
    public async Task Mmeb_presets_apply_the_datasets_exact_instruction_and_quirks()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var webqa = MmebCatalog.Get("WebQA");
        var visdial = MmebCatalog.Get("VisDial");
        var result = await generator.GenerateAsync(
            [
                new TextContent("Who painted this?").WithPreset("WebQA"),
                new TextContent("Q: what is it\nA: a dog").WithPreset("visdial"),
                TestModel.ImageData("dalmatian").WithPreset("VisDial").WithRole(EmbeddingRole.Target),
            ]);

        Assert.Equal(await Direct(encoder, webqa.CreateQuery("Who painted this?")), TestModel.Vector(result[0]));
        Assert.Equal(await Direct(encoder, visdial.CreateQuery("Q: what is it\nA: a dog")), TestModel.Vector(result[1]));
        Assert.Equal(await Direct(encoder, visdial.CreateTarget(image: ImageInput.FromFile(TestModel.ImagePath("dalmatian")))), TestModel.Vector(result[2]));
    }

    [Fact]
    public async Task Default_instructions_and_role_come_from_the_options()
    {
        var options = new Vlm2VecEmbeddingGeneratorOptions { DefaultRole = EmbeddingRole.Target };
        options.DefaultInstructions.TextTarget = "Represent the note:";
        using var generator = TestModel.NewGenerator(out var encoder, options);
        options.DefaultInstructions.TextTarget = "changed after construction";
        var result = await generator.GenerateAsync([new TextContent("buy milk")]);

        Assert.Equal(await Direct(encoder, MultimodalInput.FromText("buy milk", "Represent the note:", EmbeddingRole.Target)), TestModel.Vector(result[0]));
    }

    [Fact]
    public async Task Embeddings_carry_model_id_creation_time_and_usage()
    {
        var now = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);
        var encoder = TestModel.NewEncoder("my-model");
        using var generator = new Vlm2VecEmbeddingGenerator(new Vlm2VecEmbedder(encoder), null, null, ownsEncoder: true, new FixedTimeProvider(now));
        var result = await generator.GenerateAsync([new TextContent("one"), TestModel.ImageData("pizza")]);

        var expectedTokens = TestModel.Preprocessor.Prepare(MultimodalInput.FromText("one", TextQuery)).Length
            + TestModel.Preprocessor.Prepare(MultimodalInput.FromImage(ImageInput.FromFile(TestModel.ImagePath("pizza")), new Vlm2VecDefaultInstructions().ImageQuery)).Length;
        Assert.All(result, e => Assert.Equal("my-model", e.ModelId));
        Assert.All(result, e => Assert.Equal(now, e.CreatedAt));
        Assert.Equal(expectedTokens, result.Usage!.InputTokenCount);
        Assert.Equal(expectedTokens, result.Usage.TotalTokenCount);
        Assert.True(expectedTokens > 30, "the image's tokens are counted");
    }

    [Fact]
    public async Task Items_of_one_call_are_batched_and_returned_in_input_order()
    {
        using var generator = TestModel.NewGenerator(out var encoder, new Vlm2VecEmbeddingGeneratorOptions { MaxBatchSize = 4 });
        var texts = Enumerable.Range(0, 13).Select(i => new string('w', 1 + i % 5) + $" note {i}").ToArray();
        var result = await generator.GenerateAsync(texts.Select(t => (AIContent)new TextContent(t)));

        Assert.Equal(13, result.Count);
        Assert.Equal(4, encoder.Batches.Count);
        Assert.All(encoder.Batches, b => Assert.True(b.BatchSize <= 4));
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(await Direct(encoder, MultimodalInput.FromText(texts[i], TextQuery)), TestModel.Vector(result[i]));
        }
    }

    [Fact]
    public async Task Empty_input_returns_no_embeddings_without_running_the_model()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var result = await generator.GenerateAsync(Array.Empty<AIContent>());

        Assert.Empty(result);
        Assert.Empty(encoder.Batches);
        Assert.Equal(0, result.Usage!.InputTokenCount);
    }

    [Fact]
    public async Task Vectors_are_normalised_and_similar_wording_scores_higher()
    {
        using var generator = TestModel.NewGenerator(out _);
        var result = await generator.GenerateAsync(
            [new TextContent("a spotted dalmatian dog"), new TextContent("spotted dalmatian dog running").WithRole(EmbeddingRole.Target), new TextContent("quarterly tax report").WithRole(EmbeddingRole.Target)]);

        Assert.All(result, e => Assert.Equal(1.0, Math.Sqrt(e.Vector.Span.ToArray().Sum(v => (double)v * v)), 4));
        Assert.True(TestModel.Cosine(result[0].Vector, result[1].Vector) > TestModel.Cosine(result[0].Vector, result[2].Vector));
    }
}
