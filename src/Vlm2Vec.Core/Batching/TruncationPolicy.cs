namespace Vlm2Vec;

/// <summary>What to do with an input longer than the configured maximum number of tokens.</summary>
public enum TruncationPolicy
{
    /// <summary>
    /// Drop text tokens from the end of the text (right truncation, the Hugging Face default) and log a warning. Image
    /// tokens are never cut, and the input's final token (the one the model pools, usually the prompt's closing newline)
    /// is kept, so the pooled position stays the kind of token the model was trained to pool. An input whose image
    /// tokens alone reach the limit is refused with <see cref="InputTooLongException"/>.
    /// </summary>
    TruncateText,

    /// <summary>Refuse the input with <see cref="InputTooLongException"/>.</summary>
    Refuse,
}
