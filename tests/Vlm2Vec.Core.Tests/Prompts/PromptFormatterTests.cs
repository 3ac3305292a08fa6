using System.Text.Json;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Prompts;

public sealed class PromptFormatterTests
{
    private static readonly PromptFormatter V1 = new(new PromptFormatterOptions { ImagePlaceholder = "<|image_pad|>", VideoPlaceholder = "<|video_pad|>" });
    private static readonly PromptFormatter V2 = new(new PromptFormatterOptions { ImagePlaceholder = "<|image_pad|>", Style = PromptStyle.V2 });

    private static ImageInput AnImage => ImageInput.FromBytes(new byte[] { 1 }, "a.jpg");

    [Fact]
    public void Image_query_without_content_gets_no_space()
    {
        var input = MultimodalInput.FromImage(AnImage, "Represent the given image.");
        Assert.Equal("<|image_pad|>\nRepresent the given image.\n", V1.Format(input));
    }

    [Fact]
    public void Image_input_without_instruction_or_text_is_the_placeholder_line()
    {
        Assert.Equal("<|image_pad|>\n", V1.Format(MultimodalInput.FromImage(AnImage)));
        Assert.Equal("<|image_pad|>\nA red bus\n", V1.Format(MultimodalInput.FromImage(AnImage, text: "A red bus")));
    }

    [Fact]
    public void Space_before_newline_is_folded_over_the_whole_image_side_string()
    {
        // The reference applies replace(" \n", "\n") to the whole string, content included, before the final newline.
        var input = MultimodalInput.FromImage(AnImage, "Represent the given image with the following question:", "Line one \nline two ");
        Assert.Equal("<|image_pad|>\nRepresent the given image with the following question: Line one\nline two \n", V1.Format(input));
    }

    [Fact]
    public void Mmeb_placeholder_and_surrounding_whitespace_are_removed_from_the_instruction_of_image_inputs()
    {
        var input = MultimodalInput.FromImage(AnImage, "<|image_1|>\nRepresent the given image.", role: EmbeddingRole.Target);
        Assert.Equal("<|image_pad|>\nRepresent the given image.\n", V1.Format(input));
        var spaced = MultimodalInput.FromImage(AnImage, "<|image_1|> Represent the given image with the following question: ", "What is in the image?");
        Assert.Equal("<|image_pad|>\nRepresent the given image with the following question: What is in the image?\n", V1.Format(spaced));
    }

    [Fact]
    public void Text_query_ends_with_a_newline_and_text_target_is_raw()
    {
        Assert.Equal("Find me an everyday image that matches the given caption: A dog\n",
            V1.Format(MultimodalInput.FromText("A dog", "Find me an everyday image that matches the given caption:")));
        Assert.Equal("A dog\n", V1.Format(MultimodalInput.FromText("A dog")));
        Assert.Equal("artichoke, globe artichoke", V1.Format(MultimodalInput.FromText("artichoke, globe artichoke", role: EmbeddingRole.Target)));
        Assert.Equal("Label: cat", V1.Format(MultimodalInput.FromText("cat", "Label:", EmbeddingRole.Target)));
    }

    [Fact]
    public void Text_target_keeps_its_own_whitespace()
    {
        Assert.Equal(" two  spaces \n", V1.Format(MultimodalInput.FromText(" two  spaces \n", role: EmbeddingRole.Target)));
    }

    [Fact]
    public void Image_targets_with_and_without_caption()
    {
        Assert.Equal("<|image_pad|>\nRepresent the given image with related text information: A caption\n",
            V1.Format(MultimodalInput.FromImage(AnImage, "Represent the given image with related text information:", "A caption", EmbeddingRole.Target)));
        Assert.Equal("<|image_pad|>\nRepresent the given image with related text information:\n",
            V1.Format(MultimodalInput.FromImage(AnImage, "Represent the given image with related text information:", role: EmbeddingRole.Target)));
    }

    [Fact]
    public void Quirks_change_only_the_trailing_newline()
    {
        var cropped = MultimodalInput.FromImage(AnImage, "Represent the given cropped image of the object", role: EmbeddingRole.Target) with { Quirks = PromptQuirks.NoTrailingNewline };
        Assert.Equal("<|image_pad|>\nRepresent the given cropped image of the object", V1.Format(cropped));
        var dialogue = MultimodalInput.FromText("Q:a\nA:b", "Dialogue:") with { Quirks = PromptQuirks.ExtraTrailingNewline };
        Assert.Equal("Dialogue: Q:a\nA:b\n\n", V1.Format(dialogue));
        var both = dialogue with { Quirks = PromptQuirks.ExtraTrailingNewline | PromptQuirks.NoTrailingNewline };
        Assert.Throws<InvalidInputException>(() => V1.Format(both));
    }

    [Fact]
    public void Several_images_get_adjacent_placeholders_in_order()
    {
        var input = new MultimodalInput { Images = [AnImage, AnImage, AnImage], Instruction = "Compare the images.", Text = "Which is red?" };
        Assert.Equal("<|image_pad|><|image_pad|><|image_pad|>\nCompare the images. Which is red?\n", V1.Format(input));
        Assert.Equal("<|image_pad|><|image_pad|><|image_pad|> Compare the images. Which is red?", V2.Format(input));
    }

    [Fact]
    public void Stray_placeholder_in_an_image_less_input_needs_the_flag()
    {
        var input = new MultimodalInput { Instruction = "<|image_1|>\nFind a Wikipedia image that answers this question:", Text = "Which?" };
        var error = Assert.Throws<InvalidInputException>(() => V1.Format(input));
        Assert.Contains("KeepStrayPlaceholders", error.Message, StringComparison.Ordinal);

        var kept = V1.FormatDetailed(input with { KeepStrayPlaceholders = true });
        Assert.Equal("<|image_pad|>\nFind a Wikipedia image that answers this question: Which?\n", kept.Text);
        Assert.Equal(0, kept.ImageCount);
        Assert.Equal(1, kept.StrayPlaceholderCount);
    }

    [Fact]
    public void Placeholder_in_the_text_of_an_image_input_is_refused()
    {
        var input = MultimodalInput.FromImage(AnImage, "Describe", "see <|image_pad|> here");
        var error = Assert.Throws<InvalidInputException>(() => V1.Format(input));
        Assert.Contains("Prompt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verbatim_prompt_maps_the_mmeb_placeholder_and_checks_the_count()
    {
        var input = new MultimodalInput { Prompt = "<|image_1|>\nRepresent the given image.\n", Images = [AnImage] };
        var formatted = V1.FormatDetailed(input);
        Assert.Equal("<|image_pad|>\nRepresent the given image.\n", formatted.Text);
        Assert.Equal(1, formatted.ImageCount);

        // Verbatim means verbatim: V2 does not touch it either, and no newline rule applies.
        Assert.Equal("<|image_pad|> a  b \n", V2.Format(new MultimodalInput { Prompt = "<|image_1|> a  b \n", Images = [AnImage] }));

        var mismatch = new MultimodalInput { Prompt = "<|image_pad|> one", Images = [AnImage, AnImage] };
        var error = Assert.Throws<InvalidInputException>(() => V1.Format(mismatch));
        Assert.Contains("1 image placeholder(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 image(s)", error.Message, StringComparison.Ordinal);

        var stray = new MultimodalInput { Prompt = "<|image_1|>\nFind a news image that matches the provided caption: x\n" };
        Assert.Throws<InvalidInputException>(() => V1.Format(stray));
        Assert.Equal(1, V1.FormatDetailed(stray with { KeepStrayPlaceholders = true }).StrayPlaceholderCount);
    }

    [Fact]
    public void Chat_template_prompts_with_vision_markers_pass_through()
    {
        var input = new MultimodalInput
        {
            Prompt = "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe this image.<|im_end|>\n",
            Images = [AnImage],
        };
        Assert.Equal(input.Prompt, V1.Format(input));
    }

    [Fact]
    public void Video_placeholder_is_refused_everywhere()
    {
        Assert.Throws<InvalidInputException>(() => V1.Format(MultimodalInput.FromText("a <|video_pad|> b")));
        Assert.Throws<InvalidInputException>(() => V1.Format(new MultimodalInput { Prompt = "<|video_pad|> x" }));
        Assert.Throws<InvalidInputException>(() => V1.Format(MultimodalInput.FromImage(AnImage, "<|video_pad|>")));
    }

    [Fact]
    public void Invalid_inputs_are_refused_with_typed_errors()
    {
        Assert.Throws<InvalidInputException>(() => V1.Format(new MultimodalInput()));
        Assert.Throws<InvalidInputException>(() => V1.Format(MultimodalInput.FromText(string.Empty)));
        Assert.Throws<InvalidInputException>(() => V1.Format(new MultimodalInput { Prompt = "x", Text = "y" }));
    }

    [Fact]
    public void V2_is_process_input_text()
    {
        // The VLM2Vec demo string (also a tokenizer test vector in shared/data).
        var demo = MultimodalInput.FromImage(AnImage, "Represent the given image with the following question:", "What is in the image");
        Assert.Equal("<|image_pad|> Represent the given image with the following question: What is in the image", V2.Format(demo));
        Assert.Equal("Find a document image that matches the given query: total revenue 2019",
            V2.Format(MultimodalInput.FromText("total revenue 2019", "Find a document image that matches the given query:")));
        Assert.Equal("<|image_pad|> Understand the content of the provided document image.",
            V2.Format(MultimodalInput.FromImage(AnImage, "Understand the content of the provided document image.", role: EmbeddingRole.Target)));
        Assert.Equal("A cat and a dog", V2.Format(MultimodalInput.FromText("A cat and a dog", role: EmbeddingRole.Target)));
    }

    [Fact]
    public void Placeholder_comes_from_the_options()
    {
        var llava = new PromptFormatter(new PromptFormatterOptions { ImagePlaceholder = "<image>" });
        Assert.Equal("<image>\nRepresent the given image.\n", llava.Format(MultimodalInput.FromImage(AnImage, "Represent the given image.")));
        Assert.Throws<ArgumentException>(() => new PromptFormatter(new PromptFormatterOptions { ImagePlaceholder = string.Empty }));
    }

    [Theory]
    [InlineData("caltech101-test10_cls.jsonl", "ImageNet-1K")]
    [InlineData("coco-mini_i2t.jsonl", "MSCOCO_i2t")]
    [InlineData("pope-coco-mini_vqa.jsonl", "OK-VQA")]
    public void Catalog_queries_equal_the_stored_mmeb_rows_of_shared_data(string file, string dataset)
    {
        // MMEB-format rows stored with <|image_1|>; VLM2Vec swaps in the backbone placeholder and uses them verbatim.
        var firstLine = File.ReadLines(SharedData.Path("mmeb", "derived", file)).First();
        using var row = JsonDocument.Parse(firstLine);
        var stored = row.RootElement.GetProperty("qry_text").GetString()!;
        var verbatim = V1.Format(new MultimodalInput { Prompt = stored, Images = [AnImage] });

        var instructionEnd = stored.IndexOf(MmebCatalog.Get(dataset).QueryInstruction, StringComparison.Ordinal) + MmebCatalog.Get(dataset).QueryInstruction.Length;
        var content = stored[instructionEnd..].Trim();
        var rebuilt = V1.Format(MmebCatalog.Get(dataset).CreateQuery(content.Length == 0 ? null : content, AnImage));
        Assert.Equal(verbatim, rebuilt);
        Assert.StartsWith("<|image_pad|>\n", rebuilt, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_queries_of_shared_data_t2i_rows_rebuild_exactly()
    {
        var dataset = MmebCatalog.Get("MSCOCO_t2i");
        var checkedRows = 0;
        foreach (var line in File.ReadLines(SharedData.Path("mmeb", "derived", "coco-mini_t2i.jsonl")).Take(25))
        {
            using var row = JsonDocument.Parse(line);
            var stored = row.RootElement.GetProperty("qry_text").GetString()!;
            var caption = stored[(dataset.QueryInstruction.Length + 1)..^1];
            Assert.Equal(stored, V1.Format(dataset.CreateQuery(caption)));
            var target = row.RootElement.GetProperty("tgt_text")[0].GetString()!;
            Assert.Equal(V1.Format(new MultimodalInput { Prompt = target, Images = [AnImage], Role = EmbeddingRole.Target }),
                V1.Format(dataset.CreateTarget(image: AnImage)));
            checkedRows++;
        }

        Assert.Equal(25, checkedRows);
    }
}
