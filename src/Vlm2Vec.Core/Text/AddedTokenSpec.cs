namespace Vlm2Vec.Preprocessing;

/// <summary>
/// One added token as Hugging Face tokenizers describe it (<c>added_tokens</c> in tokenizer.json,
/// <c>added_tokens_decoder</c> in tokenizer_config.json).
/// </summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The token text.</param>
/// <param name="SingleWord">Matched only when not inside a word.</param>
/// <param name="LeftStrip">A match also takes the white space on its left.</param>
/// <param name="RightStrip">A match also takes the white space on its right.</param>
/// <param name="Normalized">Matched in the normalized text (after NFC) rather than in the raw text.</param>
/// <param name="Special">A special token: skipped by <c>skipSpecialTokens</c> and not matched when special tokens are not parsed.</param>
internal sealed record AddedTokenSpec(
    int Id,
    string Content,
    bool SingleWord,
    bool LeftStrip,
    bool RightStrip,
    bool Normalized,
    bool Special);
