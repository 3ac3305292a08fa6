namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>
/// Maps Qwen2-VL weight names between the layouts found in checkpoints and adapters and the canonical (classic) names
/// this library uses: <c>model.language_model.X</c> → <c>model.X</c>, <c>model.visual.X</c> → <c>visual.X</c>, and a
/// leading PEFT <c>base_model.model.</c> is removed.
/// </summary>
public static class WeightNames
{
    /// <summary>The prefix PEFT puts before every module path (<c>base_model.model.</c>).</summary>
    public const string PeftPrefix = "base_model.model.";

    private const string NestedLanguageModel = "model.language_model.";
    private const string NestedVisual = "model.visual.";
    private const string ClassicModel = "model.";
    private const string ClassicVisual = "visual.";

    /// <summary>The canonical name of a weight (or module path) stored under any supported layout.</summary>
    public static string ToCanonical(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith(PeftPrefix, StringComparison.Ordinal))
        {
            name = name[PeftPrefix.Length..];
        }

        if (name.StartsWith(NestedLanguageModel, StringComparison.Ordinal))
        {
            return ClassicModel + name[NestedLanguageModel.Length..];
        }

        if (name.StartsWith(NestedVisual, StringComparison.Ordinal))
        {
            return ClassicVisual + name[NestedVisual.Length..];
        }

        return name;
    }

    /// <summary>The name a canonical weight (or module path) has in <paramref name="layout"/>.</summary>
    public static string ToLayout(string canonicalName, WeightNameLayout layout)
    {
        ArgumentNullException.ThrowIfNull(canonicalName);
        if (layout == WeightNameLayout.Classic)
        {
            return canonicalName;
        }

        if (canonicalName.StartsWith(ClassicVisual, StringComparison.Ordinal))
        {
            return NestedVisual + canonicalName[ClassicVisual.Length..];
        }

        // transformers maps ^model (not followed by .language_model or .visual) to model.language_model.
        if (canonicalName.StartsWith(ClassicModel, StringComparison.Ordinal)
            && !canonicalName.StartsWith(NestedLanguageModel, StringComparison.Ordinal)
            && !canonicalName.StartsWith(NestedVisual, StringComparison.Ordinal))
        {
            return NestedLanguageModel + canonicalName[ClassicModel.Length..];
        }

        return canonicalName;
    }

    /// <summary>Whether a canonical name belongs to the language-model head (<c>lm_head.*</c>).</summary>
    public static bool IsLanguageModelHead(string canonicalName) =>
        canonicalName.StartsWith("lm_head.", StringComparison.Ordinal);

    /// <summary>The canonical name of the input embedding matrix.</summary>
    public const string EmbedTokensWeight = "model.embed_tokens.weight";

    /// <summary>The canonical name of the output projection (tied to the embeddings in 2B models).</summary>
    public const string LanguageModelHeadWeight = "lm_head.weight";
}
