using Microsoft.Extensions.AI;
using Vlm2Vec.Extensions.AI.Tests.Support;

namespace Vlm2Vec.Extensions.AI.Tests.Embeddings;

/// <summary>Bad items, refused options and cancellation.</summary>
public sealed class GeneratorErrorTests
{
    [Fact]
    public async Task Unsupported_content_type_names_the_type_and_the_item_index_before_the_model_runs()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        var error = await Assert.ThrowsAsync<BatchItemException>(() =>
            generator.GenerateAsync([new TextContent("fine"), new FunctionCallContent("call-1", "lookup")]));

        Assert.Equal(1, error.ItemIndex);
        Assert.IsType<InvalidInputException>(error.InnerException);
        Assert.Contains("Item 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("FunctionCallContent", error.Message, StringComparison.Ordinal);
        Assert.Empty(encoder.Batches);
    }

    [Fact]
    public async Task Non_image_data_and_unsupported_parts_are_refused_with_what_is_allowed()
    {
        using var generator = TestModel.NewGenerator(out _);
        var pdf = await Assert.ThrowsAsync<BatchItemException>(() => generator.GenerateAsync([new DataContent(new byte[] { 1, 2 }, "application/pdf")]));
        var nested = await Assert.ThrowsAsync<BatchItemException>(() =>
            generator.GenerateAsync([new TextContent("a"), new Vlm2VecContent([new TextContent("b"), new Vlm2VecContent()])]));
        var empty = await Assert.ThrowsAsync<BatchItemException>(() => generator.GenerateAsync([new Vlm2VecContent()]));

        Assert.Contains("application/pdf", pdf.Message, StringComparison.Ordinal);
        Assert.Contains("image/*", pdf.Message, StringComparison.Ordinal);
        Assert.Equal(1, nested.ItemIndex);
        Assert.Contains("Part 1 of the Vlm2VecContent", nested.Message, StringComparison.Ordinal);
        Assert.Contains("no parts", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_bad_image_fails_the_call_with_its_index_by_default()
    {
        using var generator = TestModel.NewGenerator(out _);
        var error = await Assert.ThrowsAsync<BatchItemException>(() =>
            generator.GenerateAsync([TestModel.ImageData("pizza"), new TextContent("ok"), TestModel.CorruptImage(), TestModel.ImageData("dalmatian")]));

        Assert.Equal(2, error.ItemIndex);
        Assert.IsType<ImageDecodeException>(error.InnerException);
        Assert.Contains("corrupt.png", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReturnEmpty_mode_embeds_the_good_items_and_marks_the_bad_ones()
    {
        using var generator = TestModel.NewGenerator(out var encoder, new Vlm2VecEmbeddingGeneratorOptions { ItemErrors = Vlm2VecItemErrorMode.ReturnEmpty });
        var result = await generator.GenerateAsync(
            [TestModel.ImageData("pizza"), TestModel.CorruptImage(), new TextContent("ok"), new FunctionCallContent("c", "f")]);
        var alone = await generator.GenerateAsync([TestModel.ImageData("pizza"), new TextContent("ok")]);

        Assert.Equal(4, result.Count);
        Assert.Equal(TestModel.Vector(alone[0]), TestModel.Vector(result[0]));
        Assert.Equal(TestModel.Vector(alone[1]), TestModel.Vector(result[2]));
        Assert.Null(result[0].GetVlm2VecError());
        Assert.True(result[1].Vector.IsEmpty);
        Assert.StartsWith("Item 1:", result[1].GetVlm2VecError(), StringComparison.Ordinal);
        Assert.Equal(nameof(ImageDecodeException), result[1].AdditionalProperties![Vlm2VecPropertyNames.ErrorType]);
        Assert.Contains("FunctionCallContent", result[3].GetVlm2VecError(), StringComparison.Ordinal);
        Assert.Equal(alone.Usage!.InputTokenCount, result.Usage!.InputTokenCount);
    }

    [Fact]
    public async Task Remote_images_are_refused_unless_allowed()
    {
        using var generator = TestModel.NewGenerator(out _);
        var error = await Assert.ThrowsAsync<BatchItemException>(() => generator.GenerateAsync([new UriContent("http://127.0.0.1:9/cat.jpg", "image/jpeg")]));

        Assert.Contains("AllowRemoteImages", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remote_images_are_downloaded_when_allowed_and_capped_in_size()
    {
        var jpeg = File.ReadAllBytes(TestModel.ImagePath("dalmatian"));
        using var server = new LoopbackFileServer(new Dictionary<string, byte[]> { ["/dog.jpg"] = jpeg });
        using var generator = TestModel.NewGenerator(out var encoder, new Vlm2VecEmbeddingGeneratorOptions { AllowRemoteImages = true });
        var result = await generator.GenerateAsync([new UriContent(server.Url("/dog.jpg"), "image/jpeg"), TestModel.ImageData("dalmatian")]);
        var missing = await Assert.ThrowsAsync<BatchItemException>(() => generator.GenerateAsync([new UriContent(server.Url("/missing.jpg"), "image/jpeg")]));

        Assert.Equal(TestModel.Vector(result[1]), TestModel.Vector(result[0]));
        Assert.Contains("404", missing.Message, StringComparison.Ordinal);

        var capped = new Vlm2VecEmbeddingGenerator(
            new HashingEncoder(TestModel.NewPreprocessor(TestModel.Preprocessing with { ImageLimits = new Preprocessing.ImageLimits { MaxEncodedBytes = 1000 } })),
            new Vlm2VecEmbeddingGeneratorOptions { AllowRemoteImages = true });
        var tooLarge = await Assert.ThrowsAsync<BatchItemException>(() => capped.GenerateAsync([new UriContent(server.Url("/dog.jpg"), "image/jpeg")]));
        Assert.Equal(ImageErrorKind.TooManyBytes, Assert.IsType<ImageDecodeException>(tooLarge.InnerException).Kind);
    }

    [Fact]
    public async Task File_uris_can_be_switched_off_and_other_schemes_are_refused()
    {
        using var generator = TestModel.NewGenerator(out _, new Vlm2VecEmbeddingGeneratorOptions { AllowFileUris = false });
        var file = await Assert.ThrowsAsync<BatchItemException>(() => generator.GenerateAsync([TestModel.ImageUri("pizza")]));
        var ftp = await Assert.ThrowsAsync<BatchItemException>(() => generator.GenerateAsync([new UriContent("ftp://example.invalid/a.png", "image/png")]));

        Assert.Contains("AllowFileUris", file.Message, StringComparison.Ordinal);
        Assert.Contains("ftp", ftp.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_role_and_unknown_preset_are_item_errors()
    {
        using var generator = TestModel.NewGenerator(out _);
        var role = await Assert.ThrowsAsync<BatchItemException>(() =>
            generator.GenerateAsync([new TextContent("a") { AdditionalProperties = new() { [Vlm2VecPropertyNames.Role] = "sideways" } }]));
        var preset = await Assert.ThrowsAsync<BatchItemException>(() => generator.GenerateAsync([new TextContent("a").WithPreset("NoSuchSet")]));
        var modality = await Assert.ThrowsAsync<BatchItemException>(() => generator.GenerateAsync([new TextContent("a").WithPreset("ImageNet-1K")]));

        Assert.Contains("'query' or 'target'", role.Message, StringComparison.Ordinal);
        Assert.Contains("NoSuchSet", preset.Message, StringComparison.Ordinal);
        Assert.Contains("MSCOCO_t2i", preset.Message, StringComparison.Ordinal);
        Assert.Contains("image", modality.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dimensions_other_than_the_models_and_a_foreign_model_id_are_refused()
    {
        using var generator = TestModel.NewGenerator(out _);
        var same = await generator.GenerateAsync([new TextContent("a")], new EmbeddingGenerationOptions { Dimensions = HashingEncoder.Dimension, ModelId = "hashing-test-model" });
        var dims = await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync([new TextContent("a")], new EmbeddingGenerationOptions { Dimensions = 128 }));
        var model = await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync([new TextContent("a")], new EmbeddingGenerationOptions { ModelId = "text-embedding-3-small" }));

        Assert.Equal(HashingEncoder.Dimension, same[0].Dimensions);
        Assert.Contains("Matryoshka", dims.Message, StringComparison.Ordinal);
        Assert.Contains("128", dims.Message, StringComparison.Ordinal);
        Assert.Contains("text-embedding-3-small", model.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_stops_the_call()
    {
        using var generator = TestModel.NewGenerator(out var encoder, new Vlm2VecEmbeddingGeneratorOptions { MaxBatchSize = 1 });
        using var cancellation = new CancellationTokenSource();
        encoder.BeforeBatch = () =>
        {
            if (encoder.Batches.Count == 1)
            {
                cancellation.Cancel();
            }
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            generator.GenerateAsync(Enumerable.Range(0, 6).Select(i => (AIContent)new TextContent($"item {i}")), cancellationToken: cancellation.Token));
        Assert.True(encoder.Batches.Count < 6);
    }

    [Fact]
    public void GetService_exposes_metadata_encoder_embedder_and_preprocessing()
    {
        using var generator = TestModel.NewGenerator(out var encoder);
        IEmbeddingGenerator untyped = generator;
        var metadata = untyped.GetService<EmbeddingGeneratorMetadata>()!;

        Assert.Equal("vlm2vec", metadata.ProviderName);
        Assert.Equal("hashing-test-model", metadata.DefaultModelId);
        Assert.Equal(HashingEncoder.Dimension, metadata.DefaultModelDimensions);
        Assert.Same(encoder, untyped.GetService<IVlm2VecEncoder>());
        Assert.Same(encoder, untyped.GetService<HashingEncoder>());
        Assert.Same(generator.Embedder, untyped.GetService<Vlm2VecEmbedder>());
        Assert.Same(encoder.Preprocessor, untyped.GetService<Vlm2VecPreprocessor>());
        Assert.Same(encoder.Info, untyped.GetService<Vlm2VecModelInfo>());
        Assert.Same(generator, untyped.GetService<Vlm2VecEmbeddingGenerator>());
        Assert.Null(untyped.GetService<EmbeddingGeneratorMetadata>("some key"));
        Assert.Null(untyped.GetService<string>());
    }

    [Fact]
    public async Task Disposing_disposes_an_owned_encoder_only_and_then_refuses_calls()
    {
        var borrowed = TestModel.NewEncoder();
        new Vlm2VecEmbeddingGenerator(borrowed).Dispose();
        var generator = TestModel.NewGenerator(out var owned);
        generator.Dispose();
        generator.Dispose();

        Assert.False(borrowed.Disposed);
        Assert.True(owned.Disposed);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => generator.GenerateAsync([new TextContent("a")]));
    }
}
