using System.Collections.Frozen;

namespace Vlm2Vec.Evaluation;

/// <summary>
/// Published per-dataset MMEB-V1 hit@1 scores (percent) of the VLM2Vec Qwen2-VL checkpoints, re-evaluated in the V2
/// framework (spec §2.5(b), columns 9–11, from <c>VLM2Vec@main:experiments/public/all_scores/v2.1-baselines-visdoc-page-fixed</c>):
/// the comparison column of the evaluation reports and the regression targets for a faithful port.
/// </summary>
public static class MmebPublishedScores
{
    /// <summary>VLM2Vec-Qwen2VL-2B (V1 checkpoint).</summary>
    public const string Qwen2Vl2B = "VLM2Vec-Qwen2VL-2B";

    /// <summary>VLM2Vec-Qwen2VL-7B (V1 checkpoint).</summary>
    public const string Qwen2Vl7B = "VLM2Vec-Qwen2VL-7B";

    /// <summary>VLM2Vec-V2.0 (Qwen2-VL-2B backbone).</summary>
    public const string V2 = "VLM2Vec-V2.0";

    private static readonly string[] ModelNames = [Qwen2Vl2B, Qwen2Vl7B, V2];

    // Dataset → [V1-Qwen2VL-2B, V1-Qwen2VL-7B, V2.0-2B], MMEB table order.
    private static readonly FrozenDictionary<string, double[]> Table = new Dictionary<string, double[]>
    {
        ["ImageNet-1K"] = [77.5, 80.2, 80.8],
        ["N24News"] = [73.8, 79.5, 73.0],
        ["HatefulMemes"] = [57.9, 70.3, 55.8],
        ["VOC2007"] = [74.3, 80.6, 84.9],
        ["SUN397"] = [73.7, 77.3, 70.9],
        ["Place365"] = [35.0, 37.2, 36.1],
        ["ImageNet-A"] = [50.6, 57.6, 47.6],
        ["ImageNet-R"] = [84.7, 74.2, 89.3],
        ["ObjectNet"] = [36.9, 40.5, 65.1],
        ["Country211"] = [21.7, 30.2, 25.8],
        ["OK-VQA"] = [48.2, 56.8, 51.7],
        ["A-OKVQA"] = [39.7, 47.5, 44.0],
        ["DocVQA"] = [82.7, 88.8, 90.1],
        ["InfographicsVQA"] = [47.3, 59.0, 59.1],
        ["ChartQA"] = [42.2, 56.6, 48.1],
        ["Visual7W"] = [50.9, 52.7, 52.8],
        ["ScienceQA"] = [30.5, 38.2, 38.1],
        ["VizWiz"] = [38.8, 39.6, 43.3],
        ["GQA"] = [48.1, 54.4, 65.4],
        ["TextVQA"] = [63.2, 71.6, 71.6],
        ["VisDial"] = [75.1, 81.6, 82.7],
        ["CIRR"] = [46.8, 51.4, 57.3],
        ["VisualNews_t2i"] = [73.4, 80.3, 74.7],
        ["VisualNews_i2t"] = [73.8, 81.2, 78.3],
        ["MSCOCO_t2i"] = [73.1, 77.5, 75.9],
        ["MSCOCO_i2t"] = [68.3, 73.6, 71.1],
        ["NIGHTS"] = [65.8, 67.5, 68.4],
        ["WebQA"] = [85.8, 88.3, 90.6],
        ["FashionIQ"] = [13.8, 16.8, 19.6],
        ["Wiki-SS-NQ"] = [54.6, 62.1, 67.6],
        ["OVEN"] = [68.4, 66.6, 64.8],
        ["EDIS"] = [81.4, 85.9, 84.2],
        ["MSCOCO"] = [65.7, 75.4, 66.2],
        ["RefCOCO"] = [80.8, 87.1, 87.0],
        ["RefCOCO-Matching"] = [76.6, 84.4, 86.3],
        ["Visual7W-Pointing"] = [69.1, 80.7, 69.0],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The models with published scores.</summary>
    public static IReadOnlyList<string> Models => ModelNames;

    /// <summary>The published hit@1 (percent) of <paramref name="model"/> on an MMEB dataset (any catalog spelling), or null.</summary>
    public static double? Find(string model, string dataset)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        var column = Array.FindIndex(ModelNames, m => string.Equals(m, model, StringComparison.OrdinalIgnoreCase));
        if (column < 0 || MmebCatalog.Find(dataset) is not { } entry)
        {
            return null;
        }

        return Table.TryGetValue(entry.Name, out var scores) ? scores[column] : null;
    }

    /// <summary>
    /// The published model a model id most likely is (<c>…V2.0…</c> → V2.0, <c>…7B…</c> → Qwen2VL-7B, <c>…2B…</c> →
    /// Qwen2VL-2B), or null when the id names no VLM2Vec checkpoint.
    /// </summary>
    public static string? Match(string modelId)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        var id = modelId.ToUpperInvariant();
        if (!id.Contains("VLM2VEC", StringComparison.Ordinal))
        {
            return null;
        }

        if (id.Contains("V2.0", StringComparison.Ordinal) || id.Contains("V2-", StringComparison.Ordinal) || id.EndsWith("V2", StringComparison.Ordinal))
        {
            return V2;
        }

        return id.Contains("7B", StringComparison.Ordinal) ? Qwen2Vl7B : id.Contains("2B", StringComparison.Ordinal) ? Qwen2Vl2B : null;
    }
}
