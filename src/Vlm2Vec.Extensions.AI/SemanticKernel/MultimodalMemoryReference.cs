namespace Vlm2Vec.Extensions.AI.SemanticKernel;

/// <summary>A memory as the plugin returns it to an agent: what it is, where it came from, and how to cite it.</summary>
public sealed record MultimodalMemoryReference
{
    /// <summary>The memory's id (give it to <c>forget</c>).</summary>
    public required string Id { get; init; }

    /// <summary><c>text</c> or <c>image</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The note's text or the image's description.</summary>
    public string? Text { get; init; }

    /// <summary>The source reference given when it was stored.</summary>
    public string? Source { get; init; }

    /// <summary>The metadata given when it was stored.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Cosine similarity to the query (search results only; higher is closer).</summary>
    public double? Score { get; init; }

    /// <summary>A citation to quote in an answer: <c>[memory:ID] SOURCE</c>.</summary>
    public required string Citation { get; init; }
}
