namespace Vlm2Vec.Extensions.AI;

/// <summary>What <see cref="Vlm2VecEmbeddingGenerator"/> does when some items of a call cannot be embedded.</summary>
public enum Vlm2VecItemErrorMode
{
    /// <summary>
    /// Fail the call with a <see cref="BatchItemException"/> naming the first bad item's index (its cause is the inner
    /// exception). Nothing is embedded: bad items are found before the model runs where possible.
    /// </summary>
    Throw,

    /// <summary>
    /// Embed the good items and return, for each bad one, an embedding with an empty vector whose
    /// <c>AdditionalProperties</c> carry <see cref="Vlm2VecPropertyNames.Error"/> and
    /// <see cref="Vlm2VecPropertyNames.ErrorType"/> (see <see cref="Vlm2VecEmbeddingExtensions.GetVlm2VecError"/>).
    /// Use <c>UseVlm2VecDistributedCache</c> rather than the plain distributed cache so that those are never cached.
    /// </summary>
    ReturnEmpty,
}
