namespace Vlm2Vec;

/// <summary>Which side of a retrieval pair an input is on. It selects default instructions and prompt rules.</summary>
public enum EmbeddingRole
{
    /// <summary>The query side (what is searched with).</summary>
    Query,

    /// <summary>The target / candidate side (what is searched for).</summary>
    Target,
}
