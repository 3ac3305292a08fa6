namespace Vlm2Vec.Server.Protocol;

/// <summary>A parsed <c>POST /v1/embeddings</c> body.</summary>
internal sealed class EmbeddingRequest
{
    public required string Model { get; init; }

    public required IReadOnlyList<EmbeddingRequestItem> Items { get; init; }

    public EmbeddingEncodingFormat Format { get; init; }

    /// <summary>The <c>dimensions</c> asked for, or null.</summary>
    public int? Dimensions { get; init; }

    /// <summary>The request-wide instruction (extension: <c>"instruction": "..."</c>), or null.</summary>
    public string? SharedInstruction { get; init; }

    /// <summary>One instruction per item (extension: <c>"instruction": [...]</c>), or null.</summary>
    public IReadOnlyList<string?>? ItemInstructions { get; init; }

    /// <summary>The request-wide role (extension), or null.</summary>
    public EmbeddingRole? Role { get; init; }

    /// <summary>The instruction the request gives item <paramref name="index"/> (before the item's own).</summary>
    public string? InstructionFor(int index) => ItemInstructions is { } list ? list[index] : SharedInstruction;
}
