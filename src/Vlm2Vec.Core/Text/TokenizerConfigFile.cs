namespace Vlm2Vec.Preprocessing;

/// <summary>The parts of a Hugging Face <c>tokenizer_config.json</c> this tokenizer uses.</summary>
internal sealed class TokenizerConfigFile
{
    /// <summary><c>tokenizer_class</c>.</summary>
    public string? TokenizerClass { get; init; }

    /// <summary><c>pad_token</c>.</summary>
    public string? PadToken { get; init; }

    /// <summary><c>eos_token</c>.</summary>
    public string? EosToken { get; init; }

    /// <summary><c>bos_token</c>.</summary>
    public string? BosToken { get; init; }

    /// <summary><c>unk_token</c>.</summary>
    public string? UnknownToken { get; init; }

    /// <summary><c>model_max_length</c> when it is a real limit (transformers writes 1e30 for "none").</summary>
    public int? ModelMaxLength { get; init; }

    /// <summary><c>padding_side</c>.</summary>
    public PaddingSide? PaddingSide { get; init; }

    /// <summary><c>split_special_tokens</c>: special tokens in text are encoded as plain text.</summary>
    public bool SplitSpecialTokens { get; init; }

    /// <summary><c>add_prefix_space</c>, when given (used when building from vocab.json + merges.txt).</summary>
    public bool? AddPrefixSpace { get; init; }

    /// <summary><c>additional_special_tokens</c>.</summary>
    public List<string> AdditionalSpecialTokens { get; init; } = [];

    /// <summary><c>added_tokens_decoder</c>, in id order.</summary>
    public List<(AddedTokenSpec Token, int DeclaredId)> AddedTokens { get; init; } = [];
}
