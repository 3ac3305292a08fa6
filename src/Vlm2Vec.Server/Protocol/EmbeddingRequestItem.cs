namespace Vlm2Vec.Server.Protocol;

/// <summary>
/// One parsed input of an embeddings request: text, an image (decoded bytes), or both, with the item's own instruction
/// and role when it gives them (null: inherit the request's, then the server's default).
/// </summary>
internal sealed record EmbeddingRequestItem
{
    public string? Text { get; init; }

    public byte[]? Image { get; init; }

    /// <summary>The item's instruction; "" means explicitly none; null inherits.</summary>
    public string? Instruction { get; init; }

    public EmbeddingRole? Role { get; init; }

    /// <summary>Builds the model input, resolving the instruction and role.</summary>
    public MultimodalInput ToInput(int index, string? requestInstruction, EmbeddingRole? requestRole, string? defaultInstruction, EmbeddingRole defaultRole)
    {
        var instruction = Instruction ?? requestInstruction ?? defaultInstruction;
        return new MultimodalInput
        {
            Text = Text,
            Instruction = string.IsNullOrEmpty(instruction) ? null : instruction,
            Images = Image is null ? [] : [ImageInput.FromBytes(Image, $"input[{index}]")],
            Role = Role ?? requestRole ?? defaultRole,
        };
    }
}
