namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>What a state-dict validation tolerates.</summary>
public sealed class StateDictValidationOptions
{
    /// <summary>
    /// The model ties <c>lm_head.weight</c> to <c>model.embed_tokens.weight</c> (<c>tie_word_embeddings</c>): a missing
    /// <c>lm_head.weight</c> is then not an error (the loader fills it from the embeddings).
    /// </summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>
    /// Ignore <c>lm_head.*</c> on both sides: an embedding model pools hidden states and never uses the head.
    /// </summary>
    public bool SkipLanguageModelHead { get; init; }

    /// <summary>Only names this predicate accepts are compared (null: all); for partial loads such as the vision tower alone.</summary>
    public Func<string, bool>? IncludeTensor { get; init; }
}
