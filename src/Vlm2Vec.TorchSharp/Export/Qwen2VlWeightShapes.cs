using System.Globalization;
using Vlm2Vec.TorchSharp.Checkpoints;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Export;

/// <summary>The weights the Qwen2-VL graphs read, with the shapes a config implies (HF classic names, spec §3.9).</summary>
internal static class Qwen2VlWeightShapes
{
    /// <summary>Every weight the exporter reads and its expected shape.</summary>
    public static Dictionary<string, long[]> Expected(Qwen2VlConfig config)
    {
        long h = config.HiddenSize, q = (long)config.NumAttentionHeads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim;
        long inter = config.IntermediateSize;
        var v = config.Vision;
        long e = v.EmbedDim, m = v.MlpHiddenDim, merged = e * v.SpatialMergeSize * v.SpatialMergeSize;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            [WeightNames.EmbedTokensWeight] = [config.VocabSize, h],
            ["model.norm.weight"] = [h],
            ["visual.patch_embed.proj.weight"] = [e, v.InChannels, v.TemporalPatchSize, v.PatchSize, v.PatchSize],
            ["visual.merger.ln_q.weight"] = [e],
            ["visual.merger.ln_q.bias"] = [e],
            ["visual.merger.mlp.0.weight"] = [merged, merged],
            ["visual.merger.mlp.0.bias"] = [merged],
            ["visual.merger.mlp.2.weight"] = [h, merged],
            ["visual.merger.mlp.2.bias"] = [h],
        };
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            var p = string.Create(CultureInfo.InvariantCulture, $"model.layers.{i}.");
            shapes[p + "input_layernorm.weight"] = [h];
            shapes[p + "post_attention_layernorm.weight"] = [h];
            shapes[p + "self_attn.q_proj.weight"] = [q, h];
            shapes[p + "self_attn.q_proj.bias"] = [q];
            shapes[p + "self_attn.k_proj.weight"] = [kv, h];
            shapes[p + "self_attn.k_proj.bias"] = [kv];
            shapes[p + "self_attn.v_proj.weight"] = [kv, h];
            shapes[p + "self_attn.v_proj.bias"] = [kv];
            shapes[p + "self_attn.o_proj.weight"] = [h, q];
            shapes[p + "mlp.gate_proj.weight"] = [inter, h];
            shapes[p + "mlp.up_proj.weight"] = [inter, h];
            shapes[p + "mlp.down_proj.weight"] = [h, inter];
        }

        for (var j = 0; j < v.Depth; j++)
        {
            var p = string.Create(CultureInfo.InvariantCulture, $"visual.blocks.{j}.");
            shapes[p + "norm1.weight"] = [e];
            shapes[p + "norm1.bias"] = [e];
            shapes[p + "norm2.weight"] = [e];
            shapes[p + "norm2.bias"] = [e];
            shapes[p + "attn.qkv.weight"] = [3 * e, e];
            shapes[p + "attn.qkv.bias"] = [3 * e];
            shapes[p + "attn.proj.weight"] = [e, e];
            shapes[p + "attn.proj.bias"] = [e];
            shapes[p + "mlp.fc1.weight"] = [m, e];
            shapes[p + "mlp.fc1.bias"] = [m];
            shapes[p + "mlp.fc2.weight"] = [e, m];
            shapes[p + "mlp.fc2.bias"] = [e];
        }

        return shapes;
    }

    /// <summary>
    /// Checks a state dict against the config: every weight the graphs read must be present with its exact shape and a
    /// floating-point dtype. Extra tensors (<c>lm_head</c>, unused buffers) are ignored.
    /// </summary>
    /// <exception cref="ModelFormatException">One message naming every missing or mis-shaped weight.</exception>
    public static void Validate(Qwen2VlConfig config, IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        var problems = new List<string>();
        foreach (var (name, shape) in Expected(config).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!stateDict.TryGetValue(name, out var tensor))
            {
                problems.Add($"{name}: missing (expected {StateDictValidator.FormatShape(shape)})");
            }
            else if (!tensor.shape.AsSpan().SequenceEqual(shape))
            {
                problems.Add($"{name}: {StateDictValidator.FormatShape(tensor.shape)}, expected {StateDictValidator.FormatShape(shape)}");
            }
            else if (!SafetensorsDType.IsFloatingPoint(tensor.dtype))
            {
                problems.Add($"{name}: dtype {tensor.dtype}, expected a floating-point type");
            }
        }

        if (problems.Count > 0)
        {
            var shown = problems.Take(20).ToList();
            throw new ModelFormatException(
                $"The weights of {source} do not fit its config.json ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}):\n  {string.Join("\n  ", shown)}{(problems.Count > shown.Count ? "\n  …" : string.Empty)}");
        }
    }
}
