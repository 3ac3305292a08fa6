namespace Vlm2Vec;

/// <summary>
/// One thing to embed: an optional instruction, optional text and zero or more images, on the query or the target side.
/// At least one of text or image is required. Alternatively <see cref="Prompt"/> gives the exact model string (with one
/// image placeholder per image), which is how MMEB rows are replayed verbatim.
/// </summary>
public sealed record MultimodalInput
{
    /// <summary>
    /// The task instruction (for example an MMEB instruction). It carries no image placeholder, except MMEB's
    /// <c>&lt;|image_1|&gt;</c>: removed on inputs with images (as VLM2Vec's parsers do), kept as a stray placeholder on
    /// image-less inputs with <see cref="KeepStrayPlaceholders"/> (WebQA/EDIS queries).
    /// </summary>
    public string? Instruction { get; init; }

    /// <summary>The content text (a caption, a question, a label...).</summary>
    public string? Text { get; init; }

    /// <summary>The images, in the order their placeholders appear.</summary>
    public IReadOnlyList<ImageInput> Images { get; init; } = [];

    /// <summary>Query or target side.</summary>
    public EmbeddingRole Role { get; init; } = EmbeddingRole.Query;

    /// <summary>
    /// The exact prompt string, used verbatim instead of formatting <see cref="Instruction"/> and <see cref="Text"/>.
    /// MMEB's <c>&lt;|image_1|&gt;</c> and the backbone placeholder are both accepted.
    /// </summary>
    public string? Prompt { get; init; }

    /// <summary>
    /// Keep image placeholders that have no image as plain tokens (the documented WebQA/EDIS quirk of VLM2Vec,
    /// spec §1.2). Off by default: a placeholder without an image is otherwise an error.
    /// </summary>
    public bool KeepStrayPlaceholders { get; init; }

    /// <summary>
    /// Dataset-specific layout exceptions (VisDial's extra newline, the grounding targets without a trailing newline).
    /// Applied by the <c>V1</c> prompt style only; ignored when <see cref="Prompt"/> is set.
    /// </summary>
    public PromptQuirks Quirks { get; init; }

    /// <summary>The first image, or null.</summary>
    public ImageInput? Image => Images.Count > 0 ? Images[0] : null;

    /// <summary>A text-only input.</summary>
    public static MultimodalInput FromText(string text, string? instruction = null, EmbeddingRole role = EmbeddingRole.Query) =>
        new() { Text = text, Instruction = instruction, Role = role };

    /// <summary>An image input with optional instruction and text.</summary>
    public static MultimodalInput FromImage(ImageInput image, string? instruction = null, string? text = null, EmbeddingRole role = EmbeddingRole.Query)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new() { Images = [image], Instruction = instruction, Text = text, Role = role };
    }

    /// <summary>
    /// Checks that the input can be embedded.
    /// </summary>
    /// <exception cref="InvalidInputException">Nothing to embed, a null image, or a prompt combined with instruction/text.</exception>
    public void Validate()
    {
        for (var i = 0; i < Images.Count; i++)
        {
            if (Images[i] is null)
            {
                throw new InvalidInputException($"Image {i} of the input is null.");
            }
        }

        if ((Quirks & PromptQuirks.ExtraTrailingNewline) != 0 && (Quirks & PromptQuirks.NoTrailingNewline) != 0)
        {
            throw new InvalidInputException("The input's Quirks ask for both an extra trailing newline and none: choose one.");
        }

        if (Prompt is not null)
        {
            if (Instruction is not null || Text is not null)
            {
                throw new InvalidInputException("An input with an explicit Prompt must not also set Instruction or Text: the prompt is used verbatim.");
            }

            if (Prompt.Length == 0 && Images.Count == 0)
            {
                throw new InvalidInputException("The input's Prompt is empty and it has no image: there is nothing to embed.");
            }

            return;
        }

        if (string.IsNullOrEmpty(Text) && Images.Count == 0)
        {
            throw new InvalidInputException(
                Text is null
                    ? "The input has neither text nor an image: at least one is required."
                    : "The input's text is empty and it has no image: at least one of text or image is required.");
        }
    }
}
