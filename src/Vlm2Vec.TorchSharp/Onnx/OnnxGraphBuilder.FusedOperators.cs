using Onnx;
using static Vlm2Vec.TorchSharp.Onnx.OnnxAttributes;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>
/// Typed helpers for the fused operators the exporter may use: ONNX Runtime's com.microsoft contrib operators
/// (documented in ORT's <c>docs/ContribOperators.md</c>) and the opset-23 ai.onnx attention/rotary operators. Which of
/// them reproduce the reference exactly is recorded in <c>Onnx/README.md</c>.
/// </summary>
internal sealed partial class OnnxGraphBuilder
{
    /// <summary>
    /// com.microsoft SkipSimplifiedLayerNormalization: <c>sum = x + skip</c>, <c>output = RMSNorm(sum) · gamma</c>.
    /// Returns (output, sum) — the sum is the next residual.
    /// </summary>
    public (string Output, string Sum) SkipSimplifiedLayerNormalization(string x, string skip, string gamma, float epsilon)
    {
        var outputs = AddNode("SkipSimplifiedLayerNormalization", [x, skip, gamma], attributes: [Float("epsilon", epsilon)],
            domain: MicrosoftDomain, outputNames: [null, string.Empty, string.Empty, null]);
        return (outputs[0], outputs[3]);
    }

    /// <summary>com.microsoft SkipLayerNormalization: <c>sum = x + skip</c>, <c>output = LayerNorm(sum) · gamma + beta</c>.</summary>
    public (string Output, string Sum) SkipLayerNormalization(string x, string skip, string gamma, string beta, float epsilon)
    {
        var outputs = AddNode("SkipLayerNormalization", [x, skip, gamma, beta], attributes: [Float("epsilon", epsilon)],
            domain: MicrosoftDomain, outputNames: [null, string.Empty, string.Empty, null]);
        return (outputs[0], outputs[3]);
    }

    /// <summary>
    /// com.microsoft RotaryEmbedding: rotates <paramref name="x"/> ((B, S, N·H) with <paramref name="numHeads"/>, or
    /// (B, N, S, H)) by <c>cos_cache[position_ids]</c>/<c>sin_cache[position_ids]</c>, caches of shape (rows, H/2).
    /// Non-interleaved = rotate-half pairs (j, j + H/2).
    /// </summary>
    public string RotaryEmbedding(string x, string positionIds, string cosCache, string sinCache, long numHeads = 0, bool interleaved = false)
    {
        var attributes = new List<AttributeProto> { Int("interleaved", interleaved ? 1 : 0) };
        if (numHeads > 0)
        {
            attributes.Add(Int("num_heads", numHeads));
        }

        return AddNode("RotaryEmbedding", [x, positionIds, cosCache, sinCache], attributes: attributes, domain: MicrosoftDomain)[0];
    }

    /// <summary>
    /// com.microsoft MRotaryEmbedding (Qwen2-VL M-RoPE): the cos/sin row of each half-dim is taken from the T, H or W
    /// position stream of <paramref name="positionIds3"/> (3, B, S) according to <paramref name="mropeSection"/>.
    /// </summary>
    public string MRotaryEmbedding(string x, string positionIds3, string cosCache, string sinCache, ReadOnlySpan<long> mropeSection, long numHeads = 0)
    {
        var attributes = new List<AttributeProto> { Int("interleaved", 0), Ints("mrope_section", mropeSection), Int("mrope_layout", 0) };
        if (numHeads > 0)
        {
            attributes.Add(Int("num_heads", numHeads));
        }

        return AddNode("MRotaryEmbedding", [x, positionIds3, cosCache, sinCache], attributes: attributes, domain: MicrosoftDomain)[0];
    }

    /// <summary>
    /// com.microsoft MultiHeadAttention on (B, S, N·H) query/key/value (same head count for all three) with an optional
    /// additive <paramref name="attentionBias"/> (B or 1, N or 1, S, T).
    /// </summary>
    public string MultiHeadAttention(string query, string key, string value, long numHeads, string? attentionBias = null, float? scale = null)
    {
        var attributes = new List<AttributeProto> { Int("num_heads", numHeads) };
        if (scale is not null)
        {
            attributes.Add(Float("scale", scale.Value));
        }

        return AddNode("MultiHeadAttention", [query, key, value, string.Empty, string.Empty, attentionBias ?? string.Empty],
            attributes: attributes, domain: MicrosoftDomain)[0];
    }

    /// <summary>
    /// com.microsoft GroupQueryAttention without a KV cache (prompt processing): <paramref name="seqlensK"/> (B) int32
    /// = valid key count − 1 per row, <paramref name="totalSequenceLength"/> a scalar int32.
    /// </summary>
    public string GroupQueryAttention(
        string query,
        string key,
        string value,
        string seqlensK,
        string totalSequenceLength,
        long numHeads,
        long kvNumHeads,
        string? attentionBias = null,
        float? scale = null)
    {
        var attributes = new List<AttributeProto> { Int("num_heads", numHeads), Int("kv_num_heads", kvNumHeads) };
        if (scale is not null)
        {
            attributes.Add(Float("scale", scale.Value));
        }

        return AddNode(
            "GroupQueryAttention",
            [query, key, value, string.Empty, string.Empty, seqlensK, totalSequenceLength, string.Empty, string.Empty, string.Empty, attentionBias ?? string.Empty],
            attributes: attributes,
            domain: MicrosoftDomain,
            outputNames: [null, null, null])[0];
    }

    /// <summary>
    /// com.microsoft Attention: projects <paramref name="input"/> (B, S, D) with merged QKV <paramref name="weights"/>
    /// (D, 3·hidden) and <paramref name="bias"/>, then attends with an optional additive <paramref name="attentionBias"/>.
    /// </summary>
    public string MicrosoftAttention(string input, string weights, string? bias, long numHeads, string? attentionBias = null, bool unidirectional = false)
    {
        return AddNode(
            "Attention",
            [input, weights, bias ?? string.Empty, string.Empty, string.Empty, attentionBias ?? string.Empty],
            attributes: [Int("num_heads", numHeads), Int("unidirectional", unidirectional ? 1 : 0)],
            domain: MicrosoftDomain)[0];
    }

    /// <summary>com.microsoft QuickGelu: <c>x · σ(alpha · x)</c> (alpha 1.702 for CLIP-style QuickGELU, 1 for SiLU).</summary>
    public string QuickGelu(string x, float alpha) => MicrosoftOp("QuickGelu", [x], Float("alpha", alpha));

    /// <summary>com.microsoft Gelu (exact erf form).</summary>
    public string MicrosoftGelu(string x) => MicrosoftOp("Gelu", [x]);

    /// <summary>
    /// ai.onnx Attention (opset 23+) on (B, S, N·H) query and (B, T, Nkv·H) key/value with grouped heads;
    /// <paramref name="attentionMask"/> is boolean (true = attend) or additive float, broadcastable to (B, N, S, T).
    /// </summary>
    public string OnnxAttention(
        string query,
        string key,
        string value,
        string? attentionMask,
        long qNumHeads,
        long kvNumHeads,
        bool isCausal = false,
        float? scale = null,
        long softmaxPrecision = 0)
    {
        RequireOpset(23, "Attention");
        var attributes = new List<AttributeProto>
        {
            Int("q_num_heads", qNumHeads),
            Int("kv_num_heads", kvNumHeads),
            Int("is_causal", isCausal ? 1 : 0),
        };
        if (scale is not null)
        {
            attributes.Add(Float("scale", scale.Value));
        }

        if (softmaxPrecision != 0)
        {
            attributes.Add(Int("softmax_precision", softmaxPrecision));
        }

        return AddNode("Attention", [query, key, value, attentionMask ?? string.Empty], attributes: attributes)[0];
    }

    /// <summary>
    /// ai.onnx RotaryEmbedding (opset 23+). Without <paramref name="positionIds"/> the caches are per token,
    /// (B, S, H/2); with them, tables indexed by position.
    /// </summary>
    public string OnnxRotaryEmbedding(string x, string cosCache, string sinCache, string? positionIds, long numHeads = 0, bool interleaved = false)
    {
        RequireOpset(23, "RotaryEmbedding");
        var attributes = new List<AttributeProto> { Int("interleaved", interleaved ? 1 : 0) };
        if (numHeads > 0)
        {
            attributes.Add(Int("num_heads", numHeads));
        }

        return AddNode("RotaryEmbedding", [x, cosCache, sinCache, positionIds ?? string.Empty], attributes: attributes)[0];
    }
}
