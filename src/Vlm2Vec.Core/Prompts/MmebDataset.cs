namespace Vlm2Vec;

/// <summary>
/// One of the 36 MMEB datasets: its meta-task, whether it is out of distribution, what its query and target sides are
/// made of, its instructions, and the layout quirks VLM2Vec applies to it (spec §1.2, §1.3, §2.1). Build inputs with
/// <see cref="CreateQuery"/> and <see cref="CreateTarget"/>; format them with the <see cref="PromptStyle.V1"/> style to
/// get the exact MMEB strings.
/// </summary>
public sealed class MmebDataset
{
    internal MmebDataset()
    {
    }

    /// <summary>Row number in the MMEB table (1–36: CLS 1–10, VQA 11–20, RET 21–32, GD 33–36).</summary>
    public int Number { get; internal init; }

    /// <summary>The MMEB-eval name (e.g. <c>ImageNet-1K</c>, <c>MSCOCO_i2t</c>, <c>Visual7W-Pointing</c>).</summary>
    public string Name { get; internal init; } = string.Empty;

    /// <summary>The MMEB-train subset name (e.g. <c>ImageNet_1K</c>); null for the 16 out-of-distribution datasets.</summary>
    public string? TrainingSubsetName { get; internal init; }

    /// <summary>The meta-task.</summary>
    public MmebMetaTask MetaTask { get; internal init; }

    /// <summary>Whether the dataset is evaluation-only (out of distribution, OOD).</summary>
    public bool IsOutOfDistribution { get; internal init; }

    /// <summary>Whether the dataset has a training split (in distribution, IND).</summary>
    public bool IsInDistribution => !IsOutOfDistribution;

    /// <summary>What a query is made of.</summary>
    public MmebModality QueryModality { get; internal init; }

    /// <summary>What a target (candidate) is made of.</summary>
    public MmebModality TargetModality { get; internal init; }

    /// <summary>The evaluation query instruction, without placeholder or surrounding whitespace.</summary>
    public string QueryInstruction { get; internal init; } = string.Empty;

    /// <summary>
    /// The target instruction, without placeholder; null when targets are raw text (labels, answers, captions).
    /// </summary>
    public string? TargetInstruction { get; internal init; }

    /// <summary>
    /// The MMEB-train query instruction exactly as VLM2Vec's instruction dictionary gives it (placeholder removed, trailing
    /// space kept), for the 20 in-distribution datasets; null for out-of-distribution ones. Inputs built with
    /// <see cref="MmebWording.Training"/> trim its trailing whitespace because the formatter supplies the separator.
    /// </summary>
    public string? TrainingQueryInstruction { get; internal init; }

    /// <summary>
    /// Whether text-only queries keep MMEB's image placeholder in front of the instruction as an ordinary token (the
    /// WebQA/EDIS quirk, spec §1.2): the model sees one image-placeholder token with no pixels.
    /// </summary>
    public bool QueryKeepsStrayPlaceholder { get; internal init; }

    /// <summary>Layout quirks of the query side (VisDial: an extra trailing newline).</summary>
    public PromptQuirks QueryQuirks { get; internal init; }

    /// <summary>Layout quirks of the target side (grounding cropped-image targets: no trailing newline).</summary>
    public PromptQuirks TargetQuirks { get; internal init; }

    /// <summary>The query instruction in the given wording (training falls back to evaluation where there is none).</summary>
    public string GetQueryInstruction(MmebWording wording = MmebWording.Evaluation) =>
        wording == MmebWording.Training && TrainingQueryInstruction is not null ? TrainingQueryInstruction.TrimEnd() : QueryInstruction;

    /// <summary>
    /// Builds a query of this dataset from raw content: the dataset's instruction, the content text (a question, a
    /// caption, a dialogue, a quoted label: as stored in MMEB, quotes included) and the image, on the query side.
    /// </summary>
    /// <param name="text">Content text; required for text queries, optional for image+text ones, not allowed for image-only ones.</param>
    /// <param name="image">The query image; required unless the query side is text only, where it is not allowed.</param>
    /// <param name="wording">Evaluation (default) or training instruction wording.</param>
    /// <exception cref="InvalidInputException">The content does not fit the dataset's query modality.</exception>
    public MultimodalInput CreateQuery(string? text = null, ImageInput? image = null, MmebWording wording = MmebWording.Evaluation)
    {
        CheckContent(QueryModality, text, image, "query");
        var instruction = GetQueryInstruction(wording);
        if (QueryKeepsStrayPlaceholder)
        {
            instruction = Preprocessing.PromptFormatter.MmebImagePlaceholder + "\n" + instruction;
        }

        return new MultimodalInput
        {
            Instruction = instruction,
            Text = string.IsNullOrEmpty(text) ? null : text,
            Images = image is null ? [] : [image],
            Role = EmbeddingRole.Query,
            KeepStrayPlaceholders = QueryKeepsStrayPlaceholder,
            Quirks = QueryQuirks,
        };
    }

    /// <summary>
    /// Builds a target (candidate) of this dataset from raw content: a label/answer/caption for text targets, an image
    /// (with its caption where the target side is image+text) for image targets.
    /// </summary>
    /// <param name="text">Content text; required for text targets, optional for image+text ones, not allowed for image-only ones.</param>
    /// <param name="image">The target image; required unless the target side is text only, where it is not allowed.</param>
    /// <exception cref="InvalidInputException">The content does not fit the dataset's target modality.</exception>
    public MultimodalInput CreateTarget(string? text = null, ImageInput? image = null)
    {
        CheckContent(TargetModality, text, image, "target");
        return new MultimodalInput
        {
            Instruction = TargetInstruction,
            Text = string.IsNullOrEmpty(text) ? null : text,
            Images = image is null ? [] : [image],
            Role = EmbeddingRole.Target,
            Quirks = TargetQuirks,
        };
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({MetaTask}, {(IsOutOfDistribution ? "OOD" : "IND")})";

    private void CheckContent(MmebModality modality, string? text, ImageInput? image, string side)
    {
        var hasText = !string.IsNullOrEmpty(text);
        var problem = modality switch
        {
            MmebModality.Text when image is not null => "are text only: no image is allowed",
            MmebModality.Text when !hasText => "are text only: the text is required",
            MmebModality.Image when image is null => "are image only: the image is required",
            MmebModality.Image when hasText => "are image only: content text is not allowed (build a MultimodalInput yourself to add some)",
            MmebModality.ImageAndText when image is null => "are image+text: the image is required (the text is optional)",
            _ => null,
        };
        if (problem is not null)
        {
            throw new InvalidInputException($"{Name} {side}s {problem}.");
        }
    }
}
