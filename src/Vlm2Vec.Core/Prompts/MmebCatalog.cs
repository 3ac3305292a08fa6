using System.Collections.Frozen;
using System.Text;

namespace Vlm2Vec;

/// <summary>
/// The 36 MMEB datasets (20 in distribution, 16 out of distribution; 10 CLS, 10 VQA, 12 RET, 4 GD) with their
/// instructions and quirks, from spec §1.2, §1.3 and §2.1 and VLM2Vec@main's image eval parsers. Lookup ignores case,
/// hyphens, underscores and spaces, so MMEB-eval names (<c>ImageNet-1K</c>), MMEB-train subset names
/// (<c>ImageNet_1K</c>) and the paper's spelling (<c>Country-211</c>) all resolve.
/// </summary>
/// <remarks>
/// Instructions are the MMEB-eval forms (classification ones have no final period). Content text is passed as stored
/// in MMEB: grounding labels and expressions keep their double quotes (<c>"dog"</c>). The doubled "to" of the MSCOCO
/// grounding instruction is in the data. Label strings of HatefulMemes and N24News are not part of the catalog.
/// </remarks>
public static class MmebCatalog
{
    private const string VqaInstruction = "Represent the given image with the following question:";
    private const string VqaTrainingInstruction = "Represent the given image with the following question: ";
    private const string RepresentImage = "Represent the given image.";
    private const string CroppedObject = "Represent the given cropped image of the object";
    private const string WikipediaImageWithText = "Represent the given Wikipedia image with related text information:";

    private static readonly MmebDataset[] Datasets = Build();

    private static readonly FrozenDictionary<string, MmebDataset> ByKey = BuildIndex(Datasets);

    /// <summary>All 36 datasets in MMEB table order.</summary>
    public static IReadOnlyList<MmebDataset> All => Datasets;

    /// <summary>Finds a dataset by MMEB-eval or MMEB-train name; null when there is none.</summary>
    public static MmebDataset? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByKey.TryGetValue(Normalize(name), out var dataset) ? dataset : null;
    }

    /// <summary>Gets a dataset by MMEB-eval or MMEB-train name.</summary>
    /// <exception cref="KeyNotFoundException">No MMEB dataset has that name; the message lists the names.</exception>
    public static MmebDataset Get(string name) =>
        Find(name) ?? throw new KeyNotFoundException(
            $"'{name}' is not an MMEB dataset. Known: {string.Join(", ", Datasets.Select(d => d.Name))} (MMEB-train underscore names are accepted too).");

    private static string Normalize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (c is not ('-' or '_' or ' '))
            {
                builder.Append(char.ToLowerInvariant(c));
            }
        }

        return builder.ToString();
    }

    private static FrozenDictionary<string, MmebDataset> BuildIndex(MmebDataset[] datasets)
    {
        var index = new Dictionary<string, MmebDataset>(StringComparer.Ordinal);
        foreach (var dataset in datasets)
        {
            index.Add(Normalize(dataset.Name), dataset);
            if (dataset.TrainingSubsetName is { } trainName)
            {
                index.TryAdd(Normalize(trainName), dataset);
            }
        }

        return index.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static MmebDataset[] Build()
    {
        const MmebModality T = MmebModality.Text;
        const MmebModality I = MmebModality.Image;
        const MmebModality IT = MmebModality.ImageAndText;
        var number = 0;

        MmebDataset Cls(string name, string? train, string instruction, string? trainInstruction, MmebModality query = I) => new()
        {
            Number = ++number,
            Name = name,
            TrainingSubsetName = train,
            MetaTask = MmebMetaTask.Classification,
            IsOutOfDistribution = train is null,
            QueryModality = query,
            TargetModality = T,
            QueryInstruction = instruction,
            TrainingQueryInstruction = trainInstruction,
        };

        MmebDataset Vqa(string name, bool inDistribution) => new()
        {
            Number = ++number,
            Name = name,
            TrainingSubsetName = inDistribution ? name : null,
            MetaTask = MmebMetaTask.VisualQuestionAnswering,
            IsOutOfDistribution = !inDistribution,
            QueryModality = IT,
            TargetModality = T,
            QueryInstruction = VqaInstruction,
            TrainingQueryInstruction = inDistribution ? VqaTrainingInstruction : null,
        };

        MmebDataset Ret(
            string name, bool inDistribution, MmebModality query, MmebModality target, string instruction, string? targetInstruction,
            string? trainInstruction, bool stray = false, PromptQuirks queryQuirks = PromptQuirks.None) => new()
            {
                Number = ++number,
                Name = name,
                TrainingSubsetName = inDistribution ? name : null,
                MetaTask = MmebMetaTask.Retrieval,
                IsOutOfDistribution = !inDistribution,
                QueryModality = query,
                TargetModality = target,
                QueryInstruction = instruction,
                TargetInstruction = targetInstruction,
                TrainingQueryInstruction = trainInstruction,
                QueryKeepsStrayPlaceholder = stray,
                QueryQuirks = queryQuirks,
            };

        MmebDataset Gd(string name, bool inDistribution, MmebModality target, string instruction, string targetInstruction, string? trainInstruction) => new()
        {
            Number = ++number,
            Name = name,
            TrainingSubsetName = inDistribution ? name : null,
            MetaTask = MmebMetaTask.VisualGrounding,
            IsOutOfDistribution = !inDistribution,
            QueryModality = IT,
            TargetModality = target,
            QueryInstruction = instruction,
            TargetInstruction = targetInstruction,
            TrainingQueryInstruction = trainInstruction,

            // The i2i/grounding parser's no-caption branch appends no newline (spec §1.2, observed strings).
            TargetQuirks = target == I ? PromptQuirks.NoTrailingNewline : PromptQuirks.None,
        };

        return
        [
            // CLS 1–10: image (N24News: image + caption) -> label.
            Cls("ImageNet-1K", "ImageNet_1K", "Represent the given image for classification", "Represent the given image for classification."),
            Cls("N24News", "N24News", "Represent the given news image with the following caption for domain classification:",
                "Represent the given news image with the following caption for domain classification: ", IT),
            Cls("HatefulMemes", "HatefulMemes", "Represent the given image for binary classification to determine whether it constitutes hateful speech or not",
                "Represent the given image for binary classification to determine whether it constitutes hateful speech or not."),
            Cls("VOC2007", "VOC2007", "Identify the object shown in the image", "Identify the object shown in the image"),
            Cls("SUN397", "SUN397", "Identify the scene shown in the image", "Identify the scene shown in the image."),
            Cls("Place365", null, "Identify the scene shown in the image", null),
            Cls("ImageNet-A", null, "Represent the given image for classification", null),
            Cls("ImageNet-R", null, "Represent the given image for classification", null),
            Cls("ObjectNet", null, "Identify the object shown in the image", null),
            Cls("Country211", null, "Identify the country depicted in the image", null),

            // VQA 11–20: image + question -> answer.
            Vqa("OK-VQA", true),
            Vqa("A-OKVQA", true),
            Vqa("DocVQA", true),
            Vqa("InfographicsVQA", true),
            Vqa("ChartQA", true),
            Vqa("Visual7W", true),
            Vqa("ScienceQA", false),
            Vqa("VizWiz", false),
            Vqa("GQA", false),
            Vqa("TextVQA", false),

            // RET 21–32.
            Ret("VisDial", true, T, I, "Represent the given dialogue about an image, which is used for image retrieval:", "Represent the given image",
                "Represent the given dialogue about an image, which is used for image retrieval: ", queryQuirks: PromptQuirks.ExtraTrailingNewline),
            Ret("CIRR", true, IT, I, "Given an image, find a similar everyday image with the described changes:", RepresentImage,
                "Given an image, find a similar everyday image with the described changes: "),
            Ret("VisualNews_t2i", true, T, I, "Retrieve an image of this news caption.", RepresentImage, "Retrieve an image of this news caption. "),
            Ret("VisualNews_i2t", true, I, T, "Find a caption for the news in the given photo.", null, "Find a caption for the news in the given photo."),
            Ret("MSCOCO_t2i", true, T, I, "Find me an everyday image that matches the given caption:", RepresentImage,
                "Find me an everyday image that matches the given caption: "),
            Ret("MSCOCO_i2t", true, I, T, "Find an image caption describing the given everyday image.", null,
                "Find an image caption describing the given everyday image."),
            Ret("NIGHTS", true, I, I, "Find a day-to-day image that looks similar to the provided image.", RepresentImage,
                "Find a day-to-day image that looks similar to the provided image."),
            Ret("WebQA", true, T, IT, "Find a Wikipedia image that answers this question:", WikipediaImageWithText,
                "Find a Wikipedia image that answers this question: ", stray: true),
            Ret("FashionIQ", false, IT, I, "Find an image to match the fashion image and style note:", RepresentImage, null),
            Ret("Wiki-SS-NQ", false, T, I, "Find the document image that can answer the given query:", "Represent the given image", null),
            Ret("OVEN", false, IT, IT, "Retrieve a Wikipedia image-description pair that provides evidence for the question of this image:",
                WikipediaImageWithText, null),
            Ret("EDIS", false, T, IT, "Find a news image that matches the provided caption:", "Represent the given image with related text information:",
                null, stray: true),

            // GD 33–36: image + expression -> cropped region.
            Gd("MSCOCO", true, I, "Crop the image to to isolate the object labeled as", CroppedObject,
                "Select the portion of the image that isolates the object labeled as "),
            Gd("RefCOCO", false, I, "Select the portion of the image that follows the language expressions.", CroppedObject, null),
            Gd("RefCOCO-Matching", false, IT, "Select the portion of the image that follows the language expressions:",
                "Select the portion of the image that follows the language expressions:", null),
            Gd("Visual7W-Pointing", false, I, "Select the portion of the image that answers the question", CroppedObject, null),
        ];
    }
}
