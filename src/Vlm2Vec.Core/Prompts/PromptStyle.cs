namespace Vlm2Vec;

/// <summary>How an instruction, content text and image placeholders are laid out into the model string (spec §1.2).</summary>
public enum PromptStyle
{
    /// <summary>
    /// The MMEB strings VLM2Vec was trained and evaluated on: <c>"&lt;|image_pad|&gt;\n{instruction} {text}\n"</c> for
    /// inputs with images, <c>"{instruction} {text}\n"</c> for text-only queries, the raw text for text targets, with
    /// every <c>" \n"</c> folded to <c>"\n"</c> on the image side and the dataset <see cref="PromptQuirks"/> applied.
    /// These are the strings of MMEB-train/MMEB-eval (V1 checkpoints) and the ones VLM2Vec-V2.0's own image-task parsers
    /// rebuild "to stay consistent with v1", so it is the right style for every checkpoint on MMEB image tasks.
    /// </summary>
    V1,

    /// <summary>
    /// VLM2Vec@main's plain <c>process_input_text</c> form: <c>"&lt;|image_pad|&gt; {instruction} {text}"</c> with single
    /// spaces, no newline rewriting and no trailing newline. VLM2Vec-V2.0 uses it for visual-document and video tasks
    /// and in its demos; quirks do not apply.
    /// </summary>
    V2,
}
