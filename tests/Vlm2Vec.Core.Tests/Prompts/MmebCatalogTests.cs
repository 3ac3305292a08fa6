using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Prompts;

public sealed class MmebCatalogTests
{
    private static ImageInput AnImage => ImageInput.FromBytes(new byte[] { 1 }, "a.jpg");

    [Fact]
    public void Has_36_datasets_20_in_distribution_and_16_out()
    {
        Assert.Equal(36, MmebCatalog.All.Count);
        Assert.Equal(20, MmebCatalog.All.Count(d => d.IsInDistribution));
        Assert.Equal(16, MmebCatalog.All.Count(d => d.IsOutOfDistribution));
        Assert.Equal(36, MmebCatalog.All.Select(d => d.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(Enumerable.Range(1, 36), MmebCatalog.All.Select(d => d.Number));
    }

    [Theory]
    [InlineData(MmebMetaTask.Classification, 10, 5)]
    [InlineData(MmebMetaTask.VisualQuestionAnswering, 10, 6)]
    [InlineData(MmebMetaTask.Retrieval, 12, 8)]
    [InlineData(MmebMetaTask.VisualGrounding, 4, 1)]
    public void Meta_task_counts(MmebMetaTask task, int total, int inDistribution)
    {
        Assert.Equal(total, MmebCatalog.All.Count(d => d.MetaTask == task));
        Assert.Equal(inDistribution, MmebCatalog.All.Count(d => d.MetaTask == task && d.IsInDistribution));
    }

    [Fact]
    public void Out_of_distribution_sets_are_the_spec_list_and_have_no_training_side()
    {
        string[] ood =
        [
            "Place365", "ImageNet-A", "ImageNet-R", "ObjectNet", "Country211", "ScienceQA", "VizWiz", "GQA", "TextVQA",
            "OVEN", "FashionIQ", "EDIS", "Wiki-SS-NQ", "Visual7W-Pointing", "RefCOCO", "RefCOCO-Matching",
        ];
        Assert.Equal(ood.Order(StringComparer.Ordinal), MmebCatalog.All.Where(d => d.IsOutOfDistribution).Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.All(MmebCatalog.All.Where(d => d.IsOutOfDistribution), d =>
        {
            Assert.Null(d.TrainingSubsetName);
            Assert.Null(d.TrainingQueryInstruction);
        });
        Assert.All(MmebCatalog.All.Where(d => d.IsInDistribution), d =>
        {
            Assert.NotNull(d.TrainingSubsetName);
            Assert.NotNull(d.TrainingQueryInstruction);
        });
    }

    [Theory]
    [InlineData("ImageNet_1K", "ImageNet-1K")]
    [InlineData("imagenet-1k", "ImageNet-1K")]
    [InlineData("IMAGENET 1K", "ImageNet-1K")]
    [InlineData("Country-211", "Country211")]
    [InlineData("mscoco", "MSCOCO")]
    [InlineData("MSCOCO_i2t", "MSCOCO_i2t")]
    [InlineData("mscoco-t2i", "MSCOCO_t2i")]
    [InlineData("Visual7W", "Visual7W")]
    [InlineData("visual7w_pointing", "Visual7W-Pointing")]
    [InlineData("RefCOCO", "RefCOCO")]
    [InlineData("refcoco_matching", "RefCOCO-Matching")]
    [InlineData("a-okvqa", "A-OKVQA")]
    [InlineData("wiki_ss_nq", "Wiki-SS-NQ")]
    public void Lookup_is_case_and_separator_insensitive(string query, string expected)
    {
        Assert.Equal(expected, MmebCatalog.Get(query).Name);
        Assert.Same(MmebCatalog.Get(expected), MmebCatalog.Find(query));
    }

    [Fact]
    public void Unknown_names_are_reported()
    {
        Assert.Null(MmebCatalog.Find("Flickr30K"));
        var error = Assert.Throws<KeyNotFoundException>(() => MmebCatalog.Get("Flickr30K"));
        Assert.Contains("ImageNet-1K", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Training_subset_names_are_the_mmeb_train_ones()
    {
        string[] train =
        [
            "ImageNet_1K", "N24News", "HatefulMemes", "VOC2007", "SUN397", "OK-VQA", "A-OKVQA", "DocVQA", "InfographicsVQA", "ChartQA",
            "Visual7W", "VisDial", "CIRR", "VisualNews_t2i", "VisualNews_i2t", "MSCOCO_t2i", "MSCOCO_i2t", "NIGHTS", "WebQA", "MSCOCO",
        ];
        Assert.Equal(train, MmebCatalog.All.Where(d => d.IsInDistribution).Select(d => d.TrainingSubsetName));
    }

    // Spec §1.3 instruction table (eval forms; CLS forms per the reference strings, without final period).
    [Theory]
    [InlineData("ImageNet-1K", MmebMetaTask.Classification, "Represent the given image for classification", null)]
    [InlineData("N24News", MmebMetaTask.Classification, "Represent the given news image with the following caption for domain classification:", null)]
    [InlineData("HatefulMemes", MmebMetaTask.Classification, "Represent the given image for binary classification to determine whether it constitutes hateful speech or not", null)]
    [InlineData("VOC2007", MmebMetaTask.Classification, "Identify the object shown in the image", null)]
    [InlineData("SUN397", MmebMetaTask.Classification, "Identify the scene shown in the image", null)]
    [InlineData("Place365", MmebMetaTask.Classification, "Identify the scene shown in the image", null)]
    [InlineData("ImageNet-A", MmebMetaTask.Classification, "Represent the given image for classification", null)]
    [InlineData("ImageNet-R", MmebMetaTask.Classification, "Represent the given image for classification", null)]
    [InlineData("ObjectNet", MmebMetaTask.Classification, "Identify the object shown in the image", null)]
    [InlineData("Country211", MmebMetaTask.Classification, "Identify the country depicted in the image", null)]
    [InlineData("OK-VQA", MmebMetaTask.VisualQuestionAnswering, "Represent the given image with the following question:", null)]
    [InlineData("TextVQA", MmebMetaTask.VisualQuestionAnswering, "Represent the given image with the following question:", null)]
    [InlineData("VisDial", MmebMetaTask.Retrieval, "Represent the given dialogue about an image, which is used for image retrieval:", "Represent the given image")]
    [InlineData("CIRR", MmebMetaTask.Retrieval, "Given an image, find a similar everyday image with the described changes:", "Represent the given image.")]
    [InlineData("VisualNews_t2i", MmebMetaTask.Retrieval, "Retrieve an image of this news caption.", "Represent the given image.")]
    [InlineData("VisualNews_i2t", MmebMetaTask.Retrieval, "Find a caption for the news in the given photo.", null)]
    [InlineData("MSCOCO_t2i", MmebMetaTask.Retrieval, "Find me an everyday image that matches the given caption:", "Represent the given image.")]
    [InlineData("MSCOCO_i2t", MmebMetaTask.Retrieval, "Find an image caption describing the given everyday image.", null)]
    [InlineData("NIGHTS", MmebMetaTask.Retrieval, "Find a day-to-day image that looks similar to the provided image.", "Represent the given image.")]
    [InlineData("WebQA", MmebMetaTask.Retrieval, "Find a Wikipedia image that answers this question:", "Represent the given Wikipedia image with related text information:")]
    [InlineData("FashionIQ", MmebMetaTask.Retrieval, "Find an image to match the fashion image and style note:", "Represent the given image.")]
    [InlineData("Wiki-SS-NQ", MmebMetaTask.Retrieval, "Find the document image that can answer the given query:", "Represent the given image")]
    [InlineData("OVEN", MmebMetaTask.Retrieval, "Retrieve a Wikipedia image-description pair that provides evidence for the question of this image:", "Represent the given Wikipedia image with related text information:")]
    [InlineData("EDIS", MmebMetaTask.Retrieval, "Find a news image that matches the provided caption:", "Represent the given image with related text information:")]
    [InlineData("MSCOCO", MmebMetaTask.VisualGrounding, "Crop the image to to isolate the object labeled as", "Represent the given cropped image of the object")]
    [InlineData("RefCOCO", MmebMetaTask.VisualGrounding, "Select the portion of the image that follows the language expressions.", "Represent the given cropped image of the object")]
    [InlineData("RefCOCO-Matching", MmebMetaTask.VisualGrounding, "Select the portion of the image that follows the language expressions:", "Select the portion of the image that follows the language expressions:")]
    [InlineData("Visual7W-Pointing", MmebMetaTask.VisualGrounding, "Select the portion of the image that answers the question", "Represent the given cropped image of the object")]
    public void Instructions_match_the_spec_table(string name, MmebMetaTask task, string query, string? target)
    {
        var dataset = MmebCatalog.Get(name);
        Assert.Equal(task, dataset.MetaTask);
        Assert.Equal(query, dataset.QueryInstruction);
        Assert.Equal(target, dataset.TargetInstruction);
    }

    [Theory]
    [InlineData("ImageNet-1K", MmebModality.Image, MmebModality.Text)]
    [InlineData("N24News", MmebModality.ImageAndText, MmebModality.Text)]
    [InlineData("GQA", MmebModality.ImageAndText, MmebModality.Text)]
    [InlineData("VisDial", MmebModality.Text, MmebModality.Image)]
    [InlineData("CIRR", MmebModality.ImageAndText, MmebModality.Image)]
    [InlineData("VisualNews_i2t", MmebModality.Image, MmebModality.Text)]
    [InlineData("NIGHTS", MmebModality.Image, MmebModality.Image)]
    [InlineData("WebQA", MmebModality.Text, MmebModality.ImageAndText)]
    [InlineData("OVEN", MmebModality.ImageAndText, MmebModality.ImageAndText)]
    [InlineData("EDIS", MmebModality.Text, MmebModality.ImageAndText)]
    [InlineData("Wiki-SS-NQ", MmebModality.Text, MmebModality.Image)]
    [InlineData("MSCOCO", MmebModality.ImageAndText, MmebModality.Image)]
    [InlineData("RefCOCO-Matching", MmebModality.ImageAndText, MmebModality.ImageAndText)]
    public void Modalities_match_the_spec_table(string name, MmebModality query, MmebModality target)
    {
        var dataset = MmebCatalog.Get(name);
        Assert.Equal(query, dataset.QueryModality);
        Assert.Equal(target, dataset.TargetModality);
    }

    [Fact]
    public void Quirk_flags_sit_on_exactly_the_documented_datasets()
    {
        Assert.Equal(["WebQA", "EDIS"], MmebCatalog.All.Where(d => d.QueryKeepsStrayPlaceholder).Select(d => d.Name));
        Assert.Equal(["VisDial"], MmebCatalog.All.Where(d => d.QueryQuirks == PromptQuirks.ExtraTrailingNewline).Select(d => d.Name));
        Assert.Equal(["MSCOCO", "RefCOCO", "Visual7W-Pointing"],
            MmebCatalog.All.Where(d => d.TargetQuirks == PromptQuirks.NoTrailingNewline).Select(d => d.Name));
    }

    [Fact]
    public void Training_wording_differs_where_the_spec_says()
    {
        var formatter = new PromptFormatter(new PromptFormatterOptions { ImagePlaceholder = "<|image_pad|>" });
        var grounding = MmebCatalog.Get("MSCOCO");
        Assert.Equal("Select the portion of the image that isolates the object labeled as ", grounding.TrainingQueryInstruction);
        Assert.Equal("<|image_pad|>\nSelect the portion of the image that isolates the object labeled as \"dog\"\n",
            formatter.Format(grounding.CreateQuery("\"dog\"", AnImage, MmebWording.Training)));

        Assert.Equal("Identify the object shown in the image", MmebCatalog.Get("VOC2007").TrainingQueryInstruction);
        Assert.Equal("Represent the given image for classification.", MmebCatalog.Get("ImageNet_1K").GetQueryInstruction(MmebWording.Training));

        // The trailing space of the training wording is not doubled: the formatter supplies the separator.
        var news = MmebCatalog.Get("VisualNews_t2i");
        Assert.Equal("Retrieve an image of this news caption. ", news.TrainingQueryInstruction);
        Assert.Equal("Retrieve an image of this news caption. A protest.\n", formatter.Format(news.CreateQuery("A protest.", wording: MmebWording.Training)));

        // Out-of-distribution sets fall back to the evaluation wording.
        Assert.Equal(MmebCatalog.Get("RefCOCO").QueryInstruction, MmebCatalog.Get("RefCOCO").GetQueryInstruction(MmebWording.Training));
    }

    [Fact]
    public void Content_must_fit_the_modality()
    {
        Assert.Throws<InvalidInputException>(() => MmebCatalog.Get("ImageNet-1K").CreateQuery());
        Assert.Throws<InvalidInputException>(() => MmebCatalog.Get("ImageNet-1K").CreateQuery("extra", AnImage));
        Assert.Throws<InvalidInputException>(() => MmebCatalog.Get("MSCOCO_t2i").CreateQuery("a caption", AnImage));
        Assert.Throws<InvalidInputException>(() => MmebCatalog.Get("MSCOCO_t2i").CreateQuery(string.Empty));
        Assert.Throws<InvalidInputException>(() => MmebCatalog.Get("ImageNet-1K").CreateTarget());
        Assert.Throws<InvalidInputException>(() => MmebCatalog.Get("ImageNet-1K").CreateTarget("label", AnImage));
        Assert.Throws<InvalidInputException>(() => MmebCatalog.Get("OVEN").CreateTarget("caption only"));
        var message = Assert.Throws<InvalidInputException>(() => MmebCatalog.Get("NIGHTS").CreateTarget("text")).Message;
        Assert.Contains("NIGHTS targets", message, StringComparison.Ordinal);

        var target = MmebCatalog.Get("WebQA").CreateTarget(image: AnImage);
        Assert.Null(target.Text);
        Assert.Equal(EmbeddingRole.Target, target.Role);
        var query = MmebCatalog.Get("GQA").CreateQuery("What is this?", AnImage);
        Assert.Equal(EmbeddingRole.Query, query.Role);
        Assert.Single(query.Images);
        Assert.Equal("What is this?", query.Text);
    }
}
