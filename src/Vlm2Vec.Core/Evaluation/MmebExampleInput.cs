namespace Vlm2Vec.Evaluation;

/// <summary>One side of an example: the string as the model saw it and the image file, if any.</summary>
/// <param name="Prompt">The model string after placeholder replacement (MMEB's <c>&lt;|image_1|&gt;</c> → the backbone's).</param>
/// <param name="ImagePath">The image path as written in the data, or null.</param>
/// <param name="ResolvedImagePath">The absolute image path, or null.</param>
public sealed record MmebExampleInput(string Prompt, string? ImagePath, string? ResolvedImagePath);
