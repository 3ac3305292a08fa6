namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// The instructions <see cref="Vlm2VecEmbeddingGenerator"/> uses for items that name neither an instruction nor an MMEB
/// preset, by side and by what the item holds. The defaults are MMEB instructions (spec §1.3) so that inputs look like
/// what VLM2Vec was trained on; null or empty means no instruction (the raw text, as MMEB's text targets).
/// </summary>
public sealed class Vlm2VecDefaultInstructions
{
    /// <summary>A text query (default: MSCOCO_t2i's "Find me an everyday image that matches the given caption:").</summary>
    public string? TextQuery { get; set; } = MmebCatalog.Get("MSCOCO_t2i").QueryInstruction;

    /// <summary>An image query without text (default: NIGHTS' "Find a day-to-day image that looks similar to the provided image.").</summary>
    public string? ImageQuery { get; set; } = MmebCatalog.Get("NIGHTS").QueryInstruction;

    /// <summary>An image query with text (default: the VQA instruction "Represent the given image with the following question:").</summary>
    public string? ImageWithTextQuery { get; set; } = MmebCatalog.Get("OK-VQA").QueryInstruction;

    /// <summary>A text target (default: none, the raw text, as MMEB's captions, labels and answers).</summary>
    public string? TextTarget { get; set; }

    /// <summary>An image target without text (default: MSCOCO_t2i's "Represent the given image.").</summary>
    public string? ImageTarget { get; set; } = MmebCatalog.Get("MSCOCO_t2i").TargetInstruction;

    /// <summary>An image target with text (default: EDIS' "Represent the given image with related text information:").</summary>
    public string? ImageWithTextTarget { get; set; } = MmebCatalog.Get("EDIS").TargetInstruction;

    /// <summary>The default for an item of <paramref name="role"/> that has (or not) images and text.</summary>
    public string? For(EmbeddingRole role, bool hasImage, bool hasText) => (role, hasImage, hasText) switch
    {
        (EmbeddingRole.Query, false, _) => TextQuery,
        (EmbeddingRole.Query, true, false) => ImageQuery,
        (EmbeddingRole.Query, true, true) => ImageWithTextQuery,
        (_, false, _) => TextTarget,
        (_, true, false) => ImageTarget,
        _ => ImageWithTextTarget,
    };
}
