using Microsoft.Extensions.Logging;
using Vlm2Vec.Core.Tests.Batching;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Facade;

public sealed class Vlm2VecPreprocessorTests
{
    private const int ImagePad = 151655;

    [Fact]
    public void Text_query_tokenises_the_formatted_prompt_without_special_additions()
    {
        var preprocessor = FacadeData.WithFakeImages();
        var prepared = preprocessor.Prepare(MultimodalInput.FromText("A cat and a dog", role: EmbeddingRole.Target));

        // Test vector from shared/data (HF tokenizers): "A cat and a dog" -> [32, 8251, 323, 264, 5562]; no BOS/EOS.
        Assert.Equal([32, 8251, 323, 264, 5562], prepared.InputIds);
        Assert.Equal("A cat and a dog", prepared.Prompt);
        Assert.Empty(prepared.Images);
        Assert.False(prepared.Truncated);
    }

    [Fact]
    public void Image_placeholder_expands_to_the_merged_token_count()
    {
        var preprocessor = FacadeData.WithFakeImages();
        var input = MmebCatalog.Get("ImageNet-1K").CreateQuery(image: FakeImagePipeline.Image(1, 4, 6));
        var prepared = preprocessor.Prepare(input);

        Assert.Equal("<|image_pad|>\nRepresent the given image for classification\n", prepared.Prompt);
        // 1·4·6 / 2² = 6 image tokens, then "\n" "Represent" " the" " given" " image" " for" " classification" "\n".
        Assert.Equal([ImagePad, ImagePad, ImagePad, ImagePad, ImagePad, ImagePad, 198, 65743, 279, 2661, 2168, 369, 23850, 198], prepared.InputIds);
        var image = Assert.Single(prepared.Images);
        Assert.Equal((1, 4, 6), (image.GridT, image.GridH, image.GridW));
        Assert.Equal(24, prepared.PatchCount);
    }

    [Fact]
    public void V2_demo_prompt_matches_the_tokenizer_test_vector_after_expansion()
    {
        var preprocessor = FacadeData.WithFakeImages(options: new PreprocessorOptions { PromptStyle = PromptStyle.V2 });
        var input = MultimodalInput.FromImage(FakeImagePipeline.Image(1, 2, 4), "Represent the given image with the following question:", "What is in the image");
        var prepared = preprocessor.Prepare(input);

        // shared/data vector for "<|image_pad|> Represent the given image with the following question: What is in the image",
        // with its single placeholder expanded to 1·2·4/4 = 2 tokens.
        Assert.Equal([ImagePad, ImagePad, 21950, 279, 2661, 2168, 448, 279, 2701, 3405, 25, 3555, 374, 304, 279, 2168], prepared.InputIds);
    }

    [Fact]
    public void Several_images_expand_in_order()
    {
        var preprocessor = FacadeData.WithFakeImages();
        var input = new MultimodalInput { Images = [FakeImagePipeline.Image(1, 2, 2), FakeImagePipeline.Image(1, 4, 4)], Text = "A" };
        var prepared = preprocessor.Prepare(input);
        Assert.Equal(1 + 4, prepared.InputIds.Count(id => id == ImagePad));
        Assert.Equal([2, 4], prepared.Images.Select(i => i.GridH));

        var verbatim = preprocessor.Prepare(new MultimodalInput
        {
            Prompt = "<|image_1|> and <|image_1|>",
            Images = [FakeImagePipeline.Image(1, 4, 4), FakeImagePipeline.Image(1, 2, 2)],
        });
        var firstRun = verbatim.InputIds.AsSpan()[..4].ToArray();
        Assert.Equal([ImagePad, ImagePad, ImagePad, ImagePad], firstRun);
        Assert.NotEqual(ImagePad, verbatim.InputIds[4]);
        Assert.Equal(ImagePad, verbatim.InputIds[^1]);
    }

    [Fact]
    public void Stray_placeholder_stays_one_ordinary_token_and_is_not_an_image_in_the_batch()
    {
        var preprocessor = FacadeData.WithFakeImages();
        var prepared = preprocessor.Prepare(MmebCatalog.Get("WebQA").CreateQuery("Which body part?"));
        Assert.Equal(ImagePad, prepared.InputIds[0]);
        Assert.Single(prepared.InputIds, id => id == ImagePad);
        Assert.Empty(prepared.Images);

        var batch = preprocessor.Collate([prepared, preprocessor.Prepare(MmebCatalog.Get("ImageNet-1K").CreateQuery(image: FakeImagePipeline.Image(1, 2, 2)))]);
        Assert.Equal(1, batch.ImageTokenMask.Sum());
        Assert.Equal(0, batch.ImageTokenMask.AsSpan(0, batch.SequenceLength).ToArray().Sum());
    }

    [Fact]
    public void Collation_uses_the_tokenizer_pad_id_and_left_padding()
    {
        var preprocessor = FacadeData.WithFakeImages();
        Assert.Equal(PaddingSide.Left, preprocessor.Collator.Options.Padding);
        Assert.Equal(151643, preprocessor.Collator.Options.PadTokenId);
        var batch = preprocessor.Collate([preprocessor.Prepare(MultimodalInput.FromText("A")), preprocessor.Prepare(MultimodalInput.FromText("A cat and a dog"))]);
        Assert.Equal(151643, batch.InputIds[0]);
        for (var s = 0; s < 3; s++)
        {
            Assert.Equal(Enumerable.Range(0, batch.SequenceLength).Select(i => (long)i),
                batch.PositionIds.AsSpan(s * 2 * batch.SequenceLength + batch.SequenceLength, batch.SequenceLength).ToArray());
        }

        var right = FacadeData.WithFakeImages(options: new PreprocessorOptions { Padding = PaddingSide.Right });
        Assert.Equal(PaddingSide.Right, right.Collate([right.Prepare(MultimodalInput.FromText("A"))]).Padding);
    }

    [Fact]
    public void Default_token_limit_is_the_smaller_of_tokenizer_and_config_limits()
    {
        Assert.Equal(32768, FacadeData.WithFakeImages().MaxTokens);
        Assert.Equal(100, FacadeData.WithFakeImages(options: new PreprocessorOptions { MaxTokens = 100 }).MaxTokens);
    }

    [Fact]
    public void Too_long_text_is_refused_or_truncated_with_a_warning()
    {
        var text = string.Join(' ', Enumerable.Repeat("word", 40));
        var refusing = FacadeData.WithFakeImages(options: new PreprocessorOptions { MaxTokens = 10, Truncation = TruncationPolicy.Refuse });
        var error = Assert.Throws<InputTooLongException>(() => refusing.Prepare(MultimodalInput.FromText(text, "Find:")));
        Assert.Equal(10, error.MaxTokens);
        Assert.True(error.TokenCount > 40);

        var logger = new CapturingLogger();
        var truncating = FacadeData.WithFakeImages(options: new PreprocessorOptions { MaxTokens = 10 }, logger: logger);
        var full = truncating.Tokenizer.Encode(truncating.FormatPrompt(MultimodalInput.FromText(text, "Find:")));
        var prepared = truncating.Prepare(MultimodalInput.FromText(text, "Find:"));
        Assert.True(prepared.Truncated);
        Assert.Equal(10, prepared.Length);
        Assert.Equal(full[..9], prepared.InputIds[..9]);
        Assert.Equal(198, prepared.InputIds[^1]);  // the closing newline, the pooled token, is kept
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("MaxTokens 10", StringComparison.Ordinal));
    }

    [Fact]
    public void Image_tokens_over_the_limit_are_refused_even_when_truncating()
    {
        var tight = FacadeData.WithFakeImages(options: new PreprocessorOptions { MaxTokens = 6 });
        var error = Assert.Throws<InputTooLongException>(() => tight.Prepare(MultimodalInput.FromImage(FakeImagePipeline.Image(1, 4, 6), "Represent the given image.")));
        Assert.Contains("6 of them for its image", error.Message, StringComparison.Ordinal);

        // Fits when the text is cut but the 6 image tokens stay.
        var preprocessor = FacadeData.WithFakeImages(options: new PreprocessorOptions { MaxTokens = 8 });
        var ok = preprocessor.Prepare(MultimodalInput.FromImage(FakeImagePipeline.Image(1, 4, 6), "Represent the given image with the following question:", "What is in it?"));
        Assert.Equal(6, ok.InputIds.Count(id => id == ImagePad));
        Assert.Equal(8, ok.Length);
    }

    [Fact]
    public void Errors_are_typed()
    {
        var preprocessor = FacadeData.WithFakeImages();
        Assert.Throws<InvalidInputException>(() => preprocessor.Prepare(new MultimodalInput()));
        Assert.Throws<InvalidInputException>(() => preprocessor.Prepare(MultimodalInput.FromText("<|video_pad|>")));
        Assert.Throws<ImageDecodeException>(() => preprocessor.Prepare(MultimodalInput.FromImage(FakeImagePipeline.Broken)));
        Assert.Throws<InvalidInputException>(() => preprocessor.Prepare(new MultimodalInput { Prompt = "<|image_pad|>" }));
    }

    [Fact]
    public void Placeholder_is_spelled_by_the_tokenizer_and_checked_against_the_config()
    {
        Assert.Equal("<|image_pad|>", FacadeData.WithFakeImages().Formatter.Options.ImagePlaceholder);
        Assert.Equal("<|video_pad|>", FacadeData.WithFakeImages().Formatter.Options.VideoPlaceholder);

        // A config whose image_token_id is an ordinary vocabulary id does not belong to this tokenizer.
        var wrong = FacadeData.Config with { ImageTokenId = 1000 };
        Assert.Throws<ModelFormatException>(() => new Vlm2VecPreprocessor(wrong, FacadeData.Tokenizer, new FakeImagePipeline(), null, null));

        // Another special token as the image id: the formatter and collator follow the config.
        var moved = FacadeData.Config with { ImageTokenId = 151654 };
        var preprocessor = new Vlm2VecPreprocessor(moved, FacadeData.Tokenizer, new FakeImagePipeline(), null, null);
        Assert.Equal("<|vision_pad|>", preprocessor.Formatter.Options.ImagePlaceholder);
        var prepared = preprocessor.Prepare(MultimodalInput.FromImage(FakeImagePipeline.Image(1, 2, 2), "Represent the given image."));
        Assert.Equal(151654, prepared.InputIds[0]);
        Assert.Equal(151654, preprocessor.Collator.Options.ImageTokenId);
    }
}
