using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Prompts;

/// <summary>
/// The golden query/target strings of spec §1.2 (first test example of each MMEB dataset, as VLM2Vec's "origin"
/// formatting produces them), rebuilt from raw content through <see cref="MmebCatalog"/> and <see cref="PromptFormatter"/>.
/// Expected strings are written out literally, never computed.
/// </summary>
public sealed class MmebGoldenStringTests
{
    private static readonly PromptFormatter Formatter = new(new PromptFormatterOptions { ImagePlaceholder = "<|image_pad|>" });

    private static ImageInput AnImage => ImageInput.FromBytes(new byte[] { 1, 2, 3 }, "test.jpg");

    private static string Query(string dataset, string? text = null, bool withImage = false) =>
        Formatter.Format(MmebCatalog.Get(dataset).CreateQuery(text, withImage ? AnImage : null));

    private static string Target(string dataset, string? text = null, bool withImage = false) =>
        Formatter.Format(MmebCatalog.Get(dataset).CreateTarget(text, withImage ? AnImage : null));

    // Classification and VQA: first examples of MMEB-V2's image tasks (query string, target label/answer).
    [Theory]
    [InlineData("HatefulMemes", null, "<|image_pad|>\nRepresent the given image for binary classification to determine whether it constitutes hateful speech or not\n", "Yes")]
    [InlineData("VOC2007", null, "<|image_pad|>\nIdentify the object shown in the image\n", "chair")]
    [InlineData("SUN397", null, "<|image_pad|>\nIdentify the scene shown in the image\n", "firing range indoor")]
    [InlineData("Place365", null, "<|image_pad|>\nIdentify the scene shown in the image\n", "berth")]
    [InlineData("ImageNet-A", null, "<|image_pad|>\nRepresent the given image for classification\n", "Rottweiler")]
    [InlineData("ImageNet-R", null, "<|image_pad|>\nRepresent the given image for classification\n", "flute")]
    [InlineData("ObjectNet", null, "<|image_pad|>\nIdentify the object shown in the image\n", "tray")]
    [InlineData("Country211", null, "<|image_pad|>\nIdentify the country depicted in the image\n", "Fiji")]
    [InlineData("N24News", "Anthony Pidgeon", "<|image_pad|>\nRepresent the given news image with the following caption for domain classification: Anthony Pidgeon\n", "Travel")]
    [InlineData("ImageNet-1K", null, "<|image_pad|>\nRepresent the given image for classification\n", "coucal")]
    [InlineData("VizWiz", "Can you tell me what this medicine is please?", "<|image_pad|>\nRepresent the given image with the following question: Can you tell me what this medicine is please?\n", "night time")]
    [InlineData("ChartQA", "How many food item is shown in the bar graph?", "<|image_pad|>\nRepresent the given image with the following question: How many food item is shown in the bar graph?\n", "14")]
    [InlineData("ScienceQA", "Which of the following could Gordon's test show?", "<|image_pad|>\nRepresent the given image with the following question: Which of the following could Gordon's test show?\n", "how steady a parachute with a 1 m vent was at 200 km per hour")]
    [InlineData("GQA", "What is this bird called?", "<|image_pad|>\nRepresent the given image with the following question: What is this bird called?\n", "This is a parrot.")]
    [InlineData("A-OKVQA", "What is in the motorcyclist's mouth?", "<|image_pad|>\nRepresent the given image with the following question: What is in the motorcyclist's mouth?\n", "cigarette")]
    [InlineData("DocVQA", "What is the ‘actual’ value per 1000, during the year 1975?", "<|image_pad|>\nRepresent the given image with the following question: What is the ‘actual’ value per 1000, during the year 1975?\n", "0.28")]
    [InlineData("InfographicsVQA", "Which social platform has heavy female audience?", "<|image_pad|>\nRepresent the given image with the following question: Which social platform has heavy female audience?\n", "pinterest")]
    [InlineData("Visual7W", "What color is the sidewalk?", "<|image_pad|>\nRepresent the given image with the following question: What color is the sidewalk?\n", "Gray.")]
    [InlineData("TextVQA", "what is the brand of this camera?", "<|image_pad|>\nRepresent the given image with the following question: what is the brand of this camera?\n", "dakota")]
    [InlineData("OK-VQA", "What sport can you use this for?", "<|image_pad|>\nRepresent the given image with the following question: What sport can you use this for?\n", "race")]
    public void Classification_and_vqa_strings_match_the_reference(string dataset, string? question, string expectedQuery, string label)
    {
        Assert.Equal(expectedQuery, Query(dataset, question, withImage: true));
        Assert.Equal(label, Target(dataset, label));
    }

    [Fact]
    public void Mscoco_i2t()
    {
        Assert.Equal("<|image_pad|>\nFind an image caption describing the given everyday image.\n", Query("MSCOCO_i2t", withImage: true));
        Assert.Equal("A man with a red helmet on a small moped on a dirt road.", Target("MSCOCO_i2t", "A man with a red helmet on a small moped on a dirt road."));
    }

    [Fact]
    public void VisualNews_i2t()
    {
        Assert.Equal("<|image_pad|>\nFind a caption for the news in the given photo.\n", Query("VisualNews_i2t", withImage: true));
        Assert.Equal("Protesters gather outside the court.", Target("VisualNews_i2t", "Protesters gather outside the court."));
    }

    [Fact]
    public void VisualNews_t2i()
    {
        Assert.Equal("Retrieve an image of this news caption. Protesters gather outside the court.\n", Query("VisualNews_t2i", "Protesters gather outside the court."));
        Assert.Equal("<|image_pad|>\nRepresent the given image.\n", Target("VisualNews_t2i", withImage: true));
    }

    [Fact]
    public void Mscoco_t2i()
    {
        Assert.Equal("Find me an everyday image that matches the given caption: Man riding a motor bike on a dirt road on the countryside.\n",
            Query("MSCOCO_t2i", "Man riding a motor bike on a dirt road on the countryside."));
        Assert.Equal("<|image_pad|>\nRepresent the given image.\n", Target("MSCOCO_t2i", withImage: true));
    }

    [Fact]
    public void VisDial_gets_its_extra_newline_and_a_target_without_period()
    {
        Assert.Equal("Represent the given dialogue about an image, which is used for image retrieval: Q:is this a child or adult\nA:adult\n\n",
            Query("VisDial", "Q:is this a child or adult\nA:adult"));
        Assert.Equal("<|image_pad|>\nRepresent the given image\n", Target("VisDial", withImage: true));
    }

    [Fact]
    public void Wiki_ss_nq()
    {
        Assert.Equal("Find the document image that can answer the given query: who sings the song i will follow you into the dark\n",
            Query("Wiki-SS-NQ", "who sings the song i will follow you into the dark"));
        Assert.Equal("<|image_pad|>\nRepresent the given image\n", Target("Wiki-SS-NQ", withImage: true));
    }

    [Fact]
    public void WebQA_keeps_the_stray_placeholder_on_its_text_only_query()
    {
        var query = MmebCatalog.Get("WebQA").CreateQuery("Which body part is the dog licking?");
        Assert.Empty(query.Images);
        Assert.Equal("<|image_pad|>\nFind a Wikipedia image that answers this question: Which body part is the dog licking?\n", Formatter.Format(query));
        Assert.Equal("<|image_pad|>\nRepresent the given Wikipedia image with related text information: Golden retriever lying on grass\n",
            Target("WebQA", "Golden retriever lying on grass", withImage: true));
    }

    [Fact]
    public void Edis_keeps_the_stray_placeholder_on_its_text_only_query()
    {
        Assert.Equal("<|image_pad|>\nFind a news image that matches the provided caption: Flood waters rise in the city centre\n",
            Query("EDIS", "Flood waters rise in the city centre"));
        Assert.Equal("<|image_pad|>\nRepresent the given image with related text information: Rescue boats on a flooded street\n",
            Target("EDIS", "Rescue boats on a flooded street", withImage: true));
    }

    [Fact]
    public void Nights()
    {
        Assert.Equal("<|image_pad|>\nFind a day-to-day image that looks similar to the provided image.\n", Query("NIGHTS", withImage: true));
        Assert.Equal("<|image_pad|>\nRepresent the given image.\n", Target("NIGHTS", withImage: true));
    }

    [Fact]
    public void Oven()
    {
        Assert.Equal("<|image_pad|>\nRetrieve a Wikipedia image-description pair that provides evidence for the question of this image: what is the model of this aircraft?\n",
            Query("OVEN", "what is the model of this aircraft?", withImage: true));
        Assert.Equal("<|image_pad|>\nRepresent the given Wikipedia image with related text information: Boeing 747. A wide-body airliner.\n",
            Target("OVEN", "Boeing 747. A wide-body airliner.", withImage: true));
    }

    [Fact]
    public void FashionIQ()
    {
        Assert.Equal("<|image_pad|>\nFind an image to match the fashion image and style note: Is shiny and silver with shorter sleeves and fit and flare.\n",
            Query("FashionIQ", "Is shiny and silver with shorter sleeves and fit and flare.", withImage: true));
        Assert.Equal("<|image_pad|>\nRepresent the given image.\n", Target("FashionIQ", withImage: true));
    }

    [Fact]
    public void Cirr()
    {
        Assert.Equal("<|image_pad|>\nGiven an image, find a similar everyday image with the described changes: Show three bottles of soft drink.\n",
            Query("CIRR", "Show three bottles of soft drink.", withImage: true));
        Assert.Equal("<|image_pad|>\nRepresent the given image.\n", Target("CIRR", withImage: true));
    }

    [Fact]
    public void Mscoco_grounding_keeps_the_doubled_to_and_its_target_has_no_trailing_newline()
    {
        Assert.Equal("<|image_pad|>\nCrop the image to to isolate the object labeled as \"dog\"\n", Query("MSCOCO", "\"dog\"", withImage: true));
        Assert.Equal("<|image_pad|>\nRepresent the given cropped image of the object", Target("MSCOCO", withImage: true));
    }

    [Fact]
    public void RefCoco()
    {
        Assert.Equal("<|image_pad|>\nSelect the portion of the image that follows the language expressions. \"man in red shirt\"\n",
            Query("RefCOCO", "\"man in red shirt\"", withImage: true));
        Assert.Equal("<|image_pad|>\nRepresent the given cropped image of the object", Target("RefCOCO", withImage: true));
    }

    [Fact]
    public void RefCoco_matching_targets_carry_an_expression_and_a_newline()
    {
        Assert.Equal("<|image_pad|>\nSelect the portion of the image that follows the language expressions: \"left zebra\"\n",
            Query("RefCOCO-Matching", "\"left zebra\"", withImage: true));
        Assert.Equal("<|image_pad|>\nSelect the portion of the image that follows the language expressions: \"zebra on the left\"\n",
            Target("RefCOCO-Matching", "\"zebra on the left\"", withImage: true));
    }

    [Fact]
    public void Visual7W_pointing()
    {
        Assert.Equal("<|image_pad|>\nSelect the portion of the image that answers the question \"Which box frames the toilet?\"\n",
            Query("Visual7W-Pointing", "\"Which box frames the toilet?\"", withImage: true));
        Assert.Equal("<|image_pad|>\nRepresent the given cropped image of the object", Target("Visual7W-Pointing", withImage: true));
    }

    [Fact]
    public void Every_dataset_builds_and_formats_a_query_and_a_target()
    {
        foreach (var dataset in MmebCatalog.All)
        {
            var query = dataset.CreateQuery(
                dataset.QueryModality == MmebModality.Image ? null : "content",
                dataset.QueryModality == MmebModality.Text ? null : AnImage);
            var target = dataset.CreateTarget(
                dataset.TargetModality == MmebModality.Image ? null : "content",
                dataset.TargetModality == MmebModality.Text ? null : AnImage);
            var q = Formatter.Format(query);
            var t = Formatter.Format(target);
            Assert.Contains(dataset.QueryInstruction, q, StringComparison.Ordinal);
            Assert.Equal(dataset.QueryModality != MmebModality.Text || dataset.QueryKeepsStrayPlaceholder, q.StartsWith("<|image_pad|>\n", StringComparison.Ordinal));
            Assert.Equal(dataset.TargetModality != MmebModality.Text, t.StartsWith("<|image_pad|>\n", StringComparison.Ordinal));
            Assert.EndsWith("\n", q, StringComparison.Ordinal);
        }
    }
}
