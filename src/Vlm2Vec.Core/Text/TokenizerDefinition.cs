using System.Text;

namespace Vlm2Vec.Preprocessing;

/// <summary>What a tokenizer.json (or a vocab.json + merges.txt pair) says, checked and ready to build a tokenizer from.</summary>
internal sealed class TokenizerDefinition
{
    /// <summary>The BPE vocabulary (byte-level token strings → ids).</summary>
    public required Dictionary<string, int> Vocabulary { get; init; }

    /// <summary>The merges in rank order.</summary>
    public required List<(string Left, string Right)> Merges { get; init; }

    /// <summary>The BPE <c>unk_token</c>, or null.</summary>
    public string? UnknownToken { get; init; }

    /// <summary>The BPE <c>fuse_unk</c> flag.</summary>
    public bool FuseUnknown { get; init; }

    /// <summary>The BPE <c>ignore_merges</c> flag.</summary>
    public bool IgnoreMerges { get; init; }

    /// <summary>The Unicode normalization forms of the normalizer, in order.</summary>
    public required List<NormalizationForm> NormalizationForms { get; init; }

    /// <summary>The pre-tokenizer steps before the byte-level mapping.</summary>
    public required List<PreTokenizerStage> PreTokenizerStages { get; init; }

    /// <summary>The added tokens, in file order, with the id the file declares (null when it declares none).</summary>
    public required List<(AddedTokenSpec Token, int? DeclaredId)> AddedTokens { get; init; }

    /// <summary>Where the definition came from, for messages.</summary>
    public required string Source { get; init; }
}
