namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// Keys of <c>AdditionalProperties</c> that <see cref="Vlm2VecEmbeddingGenerator"/> reads, on an item
/// (<see cref="Microsoft.Extensions.AI.AIContent.AdditionalProperties"/>) or on a call
/// (<see cref="Microsoft.Extensions.AI.EmbeddingGenerationOptions.AdditionalProperties"/>), and that it writes on the
/// embeddings of failed items. An item's value wins over the call's; <see cref="Vlm2VecContent"/>'s own properties win
/// over both. The caching middleware hashes both dictionaries, so these values are part of the cache key.
/// </summary>
public static class Vlm2VecPropertyNames
{
    /// <summary>
    /// The task instruction (a string). An empty string means "no instruction"; when the key is absent the MMEB preset's
    /// or the generator's default instruction applies.
    /// </summary>
    public const string Instruction = "vlm2vec.instruction";

    /// <summary>The side: <c>query</c> or <c>target</c> (a string, case-insensitive, or an <see cref="EmbeddingRole"/>).</summary>
    public const string Role = "vlm2vec.role";

    /// <summary>
    /// An MMEB dataset name (for example <c>MSCOCO_t2i</c>, <c>ImageNet-1K</c>) whose query or target instruction and
    /// layout quirks apply (see <see cref="MmebCatalog"/>).
    /// </summary>
    public const string Preset = "vlm2vec.preset";

    /// <summary>On the embedding of an item that failed (<see cref="Vlm2VecItemErrorMode.ReturnEmpty"/>): why, as a string.</summary>
    public const string Error = "vlm2vec.error";

    /// <summary>On the embedding of an item that failed: the exception type's name.</summary>
    public const string ErrorType = "vlm2vec.error_type";
}
