using Microsoft.Extensions.AI;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// Helpers to set the instruction, side and MMEB preset on items and calls (the <see cref="Vlm2VecPropertyNames"/>
/// keys), and to read the error of an item that failed.
/// </summary>
public static class Vlm2VecEmbeddingExtensions
{
    /// <summary>Sets the item's instruction (<see cref="Vlm2VecPropertyNames.Instruction"/>); empty means none.</summary>
    /// <returns><paramref name="content"/>.</returns>
    public static TContent WithInstruction<TContent>(this TContent content, string instruction)
        where TContent : AIContent
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(instruction);
        (content.AdditionalProperties ??= [])[Vlm2VecPropertyNames.Instruction] = instruction;
        return content;
    }

    /// <summary>Sets the item's side (<see cref="Vlm2VecPropertyNames.Role"/>).</summary>
    /// <returns><paramref name="content"/>.</returns>
    public static TContent WithRole<TContent>(this TContent content, EmbeddingRole role)
        where TContent : AIContent
    {
        ArgumentNullException.ThrowIfNull(content);
        (content.AdditionalProperties ??= [])[Vlm2VecPropertyNames.Role] = RoleName(role);
        return content;
    }

    /// <summary>Sets the item's MMEB preset (<see cref="Vlm2VecPropertyNames.Preset"/>, a dataset name such as <c>MSCOCO_t2i</c>).</summary>
    /// <returns><paramref name="content"/>.</returns>
    public static TContent WithPreset<TContent>(this TContent content, string datasetName)
        where TContent : AIContent
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(datasetName);
        (content.AdditionalProperties ??= [])[Vlm2VecPropertyNames.Preset] = datasetName;
        return content;
    }

    /// <summary>Sets the call's instruction for items that name none.</summary>
    /// <returns><paramref name="options"/>.</returns>
    public static EmbeddingGenerationOptions WithInstruction(this EmbeddingGenerationOptions options, string instruction)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(instruction);
        (options.AdditionalProperties ??= [])[Vlm2VecPropertyNames.Instruction] = instruction;
        return options;
    }

    /// <summary>Sets the call's side for items that name none.</summary>
    /// <returns><paramref name="options"/>.</returns>
    public static EmbeddingGenerationOptions WithRole(this EmbeddingGenerationOptions options, EmbeddingRole role)
    {
        ArgumentNullException.ThrowIfNull(options);
        (options.AdditionalProperties ??= [])[Vlm2VecPropertyNames.Role] = RoleName(role);
        return options;
    }

    /// <summary>Sets the call's MMEB preset for items that name none.</summary>
    /// <returns><paramref name="options"/>.</returns>
    public static EmbeddingGenerationOptions WithPreset(this EmbeddingGenerationOptions options, string datasetName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(datasetName);
        (options.AdditionalProperties ??= [])[Vlm2VecPropertyNames.Preset] = datasetName;
        return options;
    }

    /// <summary>
    /// The error of an item that failed (<see cref="Vlm2VecItemErrorMode.ReturnEmpty"/>), or null for an embedded item.
    /// </summary>
    public static string? GetVlm2VecError(this Embedding embedding)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        return embedding.AdditionalProperties?.TryGetValue(Vlm2VecPropertyNames.Error, out var value) == true ? value?.ToString() : null;
    }

    // Strings rather than the enum so that the dictionaries serialise the same way everywhere (cache keys, logs).
    private static string RoleName(EmbeddingRole role) => role switch
    {
        EmbeddingRole.Query => "query",
        EmbeddingRole.Target => "target",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "The role must be Query or Target."),
    };
}
