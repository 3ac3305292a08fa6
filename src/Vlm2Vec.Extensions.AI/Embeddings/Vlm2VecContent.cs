using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// One item to embed made of several parts: an optional instruction, images (<see cref="DataContent"/> with an
/// <c>image/*</c> media type, or <see cref="UriContent"/>) and text (<see cref="TextContent"/>), with an optional side
/// and MMEB preset. Images go first in the model string (one placeholder each, in part order) and the texts follow,
/// joined by a newline, as VLM2Vec lays out its inputs (spec §1.2).
/// </summary>
/// <remarks>
/// Custom <see cref="AIContent"/> types must be registered with the JSON options that middleware uses to hash (cache) or
/// log them: pass <see cref="Vlm2VecJsonUtilities.DefaultOptions"/> to <c>UseDistributedCache</c>/<c>UseLogging</c>, or
/// call <see cref="Vlm2VecJsonUtilities.AddVlm2VecContentTypes"/> on your own options. Its type discriminator is
/// <see cref="Vlm2VecJsonUtilities.ContentTypeDiscriminator"/>.
/// </remarks>
public sealed class Vlm2VecContent : AIContent
{
    /// <summary>An empty item; add <see cref="Parts"/>.</summary>
    public Vlm2VecContent()
    {
    }

    /// <summary>An item of the given parts.</summary>
    public Vlm2VecContent(IEnumerable<AIContent> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        Parts = [.. parts];
    }

    /// <summary>
    /// The task instruction. Null: the preset's or the default one applies; empty: no instruction. It wins over
    /// <see cref="Vlm2VecPropertyNames.Instruction"/> on the item or the call.
    /// </summary>
    public string? Instruction { get; set; }

    /// <summary>The side (query or target); null: the item's or call's <see cref="Vlm2VecPropertyNames.Role"/>, else the generator's default.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<EmbeddingRole>))]
    public EmbeddingRole? Role { get; set; }

    /// <summary>An MMEB dataset name whose instruction and quirks apply (see <see cref="Vlm2VecPropertyNames.Preset"/>); null: none.</summary>
    public string? Preset { get; set; }

    /// <summary>The parts: <see cref="TextContent"/>, image <see cref="DataContent"/> and <see cref="UriContent"/>.</summary>
    public IList<AIContent> Parts { get; set; } = [];

    /// <summary>An item of text and an image with an instruction, on the given side.</summary>
    /// <param name="instruction">The instruction, or null for the default.</param>
    /// <param name="text">The text, or null.</param>
    /// <param name="image">The image (<see cref="DataContent"/> or <see cref="UriContent"/>), or null.</param>
    /// <param name="role">The side, or null for the default.</param>
    public static Vlm2VecContent Create(string? instruction, string? text, AIContent? image, EmbeddingRole? role = null)
    {
        var item = new Vlm2VecContent { Instruction = instruction, Role = role };
        if (image is not null)
        {
            item.Parts.Add(image);
        }

        if (text is not null)
        {
            item.Parts.Add(new TextContent(text));
        }

        return item;
    }
}
