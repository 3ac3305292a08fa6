namespace Vlm2Vec.Preprocessing;

/// <summary>The kinds of <see cref="PreTokenizerStage"/>.</summary>
internal enum PreTokenizerStageKind
{
    /// <summary>Split with the hand-written Qwen2 / cl100k scanner.</summary>
    Qwen2Scanner,

    /// <summary>Split with a .NET regex (Isolated behaviour).</summary>
    RegexSplit,

    /// <summary>Prefix each piece that does not start with a space with one (ByteLevel <c>add_prefix_space</c>).</summary>
    PrefixSpace,
}
