using System.Globalization;
using Vlm2Vec.TorchSharp.Onnx;
using DataType = Onnx.TensorProto.Types.DataType;
using Names = Vlm2Vec.Vlm2VecBundleTensorNames;

namespace Vlm2Vec.TorchSharp.Export;

/// <summary>
/// Writes the two graphs of a Qwen2-VL VLM2Vec bundle op by op from <see cref="OnnxBlocks"/> (each block in the
/// formulation Onnx/README.md measured exact on ORT 1.31), mirroring the Hugging Face module tree:
/// <list type="bullet">
/// <item><b>vision</b>: <c>pixel_values (images, patches, 1176)</c> + <c>rotary_pos_ids (patches, 2)</c> →
/// patch embed → blocks (LayerNorm, fused qkv, 2-D rotary, MultiHeadAttention, QuickGELU MLP) → merger →
/// <c>image_embeds (images, patches/4, hidden)</c>. The encoder batches same-size images (or video frames) along the
/// first axis, so each image attends only to itself — HF's block-diagonal attention without a (P, P) mask;</item>
/// <item><b>text</b>: token embeddings with the image features scattered into the masked positions → decoder layers
/// (RMSNorm, fused q/k/v with bias, M-RoPE, attention, SwiGLU) → final norm → last-token pooling → L2.</item>
/// </list>
/// Graph inputs and outputs are float32/int64 whatever the weight dtype; float16 graphs cast at the edges and keep
/// float32 where the reference computes in float32 (rotary angles, the vision rotary, norm statistics, softmax, L2).
/// </summary>
internal sealed class Qwen2VlOnnxGraphs(Qwen2VlConfig config, ExportWeights weights, Qwen2VlGraphOptions options)
{
    private const float VisionLayerNormEpsilon = 1e-6f;
    private const double VisionRopeTheta = 10_000.0;

    private DataType DType => options.DType;

    /// <summary>The vision graph's interface.</summary>
    public static (Vlm2VecBundleTensor[] Inputs, Vlm2VecBundleTensor[] Outputs) VisionInterface(Qwen2VlConfig config) =>
    (
        [Tensor(Names.PixelValues, "float32", "images", "patches", Fixed(config.Vision.PatchRowLength)), Tensor(Names.RotaryPositionIds, "int64", "patches", "2")],
        [Tensor(Names.ImageEmbeds, "float32", "images", "merged_patches", Fixed(config.HiddenSize))]
    );

    /// <summary>The text graph's interface.</summary>
    public static (Vlm2VecBundleTensor[] Inputs, Vlm2VecBundleTensor[] Outputs) TextInterface(Qwen2VlConfig config, bool includeLastHiddenState)
    {
        var hidden = Fixed(config.HiddenSize);
        Vlm2VecBundleTensor[] inputs =
        [
            Tensor(Names.InputIds, "int64", "batch", "sequence"),
            Tensor(Names.AttentionMask, "int64", "batch", "sequence"),
            Tensor(Names.PositionIds, "int64", "3", "batch", "sequence"),
            Tensor(Names.ImageTokenMask, "int64", "batch", "sequence"),
            Tensor(Names.ImageEmbeds, "float32", "image_tokens", hidden),
        ];
        var outputs = new List<Vlm2VecBundleTensor> { Tensor(Names.Embeddings, "float32", "batch", hidden) };
        if (includeLastHiddenState)
        {
            outputs.Add(Tensor(Names.LastHiddenState, "float32", "batch", "sequence", hidden));
        }

        return (inputs, [.. outputs]);
    }

    /// <summary>Adds the vision graph to <paramref name="g"/>.</summary>
    public void BuildVision(OnnxGraphBuilder g)
    {
        var v = config.Vision;
        var pixels = g.AddInput(Names.PixelValues, DataType.Float, ["images", "patches", v.PatchRowLength]);
        var rotaryIds = g.AddInput(Names.RotaryPositionIds, DataType.Int64, ["patches", 2]);

        string hidden;
        using (g.Scope("visual/patch_embed"))
        {
            hidden = g.MatMul(ToModelType(g, pixels), weights.Linear(g, "visual.patch_embed.proj.weight"));
        }

        // 2-D rotary: cos/sin (P, head_dim/2) float32 as a cache indexed by patch; every image of the run uses 0..P-1.
        var (cos, sin) = g.VisionRotaryCosSin(rotaryIds, InverseFrequencies(VisionRopeTheta, v.HeadDim / 2));
        string positions;
        using (g.Scope("vision_rotary"))
        {
            var patches = g.Gather(g.Shape(rotaryIds), g.Int64Scalar(0));
            positions = g.Expand(g.Unsqueeze(g.Range(g.Int64Scalar(0), patches, g.Int64Scalar(1)), 0), g.Shape(pixels, 0, 2));
        }

        for (var i = 0; i < v.Depth; i++)
        {
            hidden = VisionBlock(g, i, hidden, positions, cos, sin);
        }

        string features;
        using (g.Scope("visual/merger"))
        {
            var normed = g.LayerNorm(hidden, weights.Tensor(g, "visual.merger.ln_q.weight"), weights.Tensor(g, "visual.merger.ln_q.bias"), VisionLayerNormEpsilon);
            var merge = v.SpatialMergeSize * v.SpatialMergeSize;
            var grouped = g.Reshape(normed, 0, -1, merge * v.EmbedDim);
            var mid = g.Gelu(Linear(g, grouped, "visual.merger.mlp.0"), dtype: DType);
            features = Linear(g, mid, "visual.merger.mlp.2");
        }

        g.AddOutput(ToFloat(g, features), DataType.Float, ["images", "merged_patches", config.HiddenSize], Names.ImageEmbeds);
    }

    /// <summary>Adds the text graph to <paramref name="g"/>.</summary>
    public void BuildText(OnnxGraphBuilder g)
    {
        var ids = g.AddInput(Names.InputIds, DataType.Int64, ["batch", "sequence"]);
        var mask = g.AddInput(Names.AttentionMask, DataType.Int64, ["batch", "sequence"]);
        var positionIds = g.AddInput(Names.PositionIds, DataType.Int64, [3, "batch", "sequence"]);
        var imageMask = g.AddInput(Names.ImageTokenMask, DataType.Int64, ["batch", "sequence"]);
        var imageEmbeds = g.AddInput(Names.ImageEmbeds, DataType.Float, ["image_tokens", config.HiddenSize]);

        string embeds;
        using (g.Scope("model/embed_tokens"))
        {
            var tableType = options.EmbeddingTableDType ?? DType;
            embeds = g.Gather(weights.Tensor(g, "model.embed_tokens.weight", tableType), ids);
            if (tableType != DType)
            {
                embeds = g.Cast(embeds, DType);
            }
        }

        using (g.Scope("image_scatter"))
        {
            // HF masked_scatter: the image features replace the masked positions in reading order over the batch. The
            // collator's mask (not input_ids == image_token_id) decides, so stray placeholders of image-less rows stay
            // text. A count mismatch fails in ScatterND instead of passing silently.
            var indices = g.Transpose(g.NonZero(g.Cast(imageMask, DataType.Bool)), 1, 0);
            embeds = g.ScatterND(embeds, indices, ToModelType(g, imageEmbeds));
        }

        var rotary = DecoderRotary(g, positionIds, ids);
        var bias = g.CausalPaddingBias(mask, DType);
        var prune = options.PoolBeforeLastLayer && !options.IncludeLastHiddenState && config.NumHiddenLayers > 0;
        var fullLayers = prune ? config.NumHiddenLayers - 1 : config.NumHiddenLayers;

        var hidden = embeds;
        string? pending = null;
        for (var i = 0; i < fullLayers; i++)
        {
            (hidden, pending) = DecoderLayer(g, i, hidden, pending, rotary, bias);
        }

        string pooled;
        if (prune)
        {
            pooled = PrunedLastLayer(g, config.NumHiddenLayers - 1, hidden, pending, rotary, mask);
        }
        else
        {
            string last;
            using (g.Scope("model/norm"))
            {
                last = pending is null
                    ? g.RmsNorm(hidden, weights.Tensor(g, "model.norm.weight"), RmsEpsilon, dtype: DType)
                    : g.SkipRmsNorm(pending, hidden, weights.Tensor(g, "model.norm.weight"), RmsEpsilon, options.FusedDecoderSkipNorms, DType).Output;
            }

            if (options.IncludeLastHiddenState)
            {
                g.AddOutput(ToFloat(g, last), DataType.Float, ["batch", "sequence", config.HiddenSize], Names.LastHiddenState);
            }

            using (g.Scope("pool"))
            {
                pooled = g.PoolLastToken(last, mask);
            }
        }

        using (g.Scope("l2_normalize"))
        {
            g.AddOutput(g.L2Normalize(ToFloat(g, pooled)), DataType.Float, ["batch", config.HiddenSize], Names.Embeddings);
        }
    }

    private float RmsEpsilon => (float)config.RmsNormEps;

    private string VisionBlock(OnnxGraphBuilder g, int index, string hidden, string positions, string cos, string sin)
    {
        var v = config.Vision;
        var p = Name($"visual.blocks.{index}");
        using var scope = g.Scope($"visual/blocks.{index}");
        var normed = g.LayerNorm(hidden, weights.Tensor(g, p + ".norm1.weight"), weights.Tensor(g, p + ".norm1.bias"), VisionLayerNormEpsilon);
        var qkv = Linear(g, normed, p + ".attn.qkv");
        var parts = g.Split(qkv, -1, v.EmbedDim, v.EmbedDim, v.EmbedDim);

        // HF rotates q and k in float32 and casts back (apply_rotary_pos_emb_vision).
        var q = ToModelType(g, g.RotaryEmbedding(ToFloat(g, parts[0]), positions, cos, sin, v.NumHeads));
        var k = ToModelType(g, g.RotaryEmbedding(ToFloat(g, parts[1]), positions, cos, sin, v.NumHeads));
        string context;
        using (g.Scope("attention"))
        {
            context = options.VisionAttention switch
            {
                AttentionFormulation.MultiHeadAttention => g.MultiHeadAttention(q, k, parts[2], v.NumHeads),
                AttentionFormulation.MatMulSoftmax => UnmaskedAttention(g, q, k, parts[2], v.NumHeads, v.HeadDim),
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.VisionAttention, "The vision tower supports MultiHeadAttention and MatMulSoftmax."),
            };
        }

        var projected = Linear(g, context, p + ".attn.proj");
        var (normed2, residual) = g.SkipLayerNorm(projected, hidden, weights.Tensor(g, p + ".norm2.weight"), weights.Tensor(g, p + ".norm2.bias"),
            VisionLayerNormEpsilon, options.FusedVisionSkipNorms);
        var up = Linear(g, normed2, p + ".mlp.fc1");
        var activated = v.HiddenAct switch
        {
            "quick_gelu" => g.QuickGelu(up, dtype: DType),
            "gelu" => g.Gelu(up, dtype: DType),
            _ => throw new ModelFormatException($"vision_config.hidden_act '{v.HiddenAct}' is not supported by the exporter (quick_gelu, gelu)."),
        };
        var down = Linear(g, activated, p + ".mlp.fc2");
        return g.Add(residual, down);
    }

    /// <summary>
    /// <c>softmax(q·kᵀ/√d)·v</c> per image and head with plain MatMul/Softmax (HF's eager vision attention; the softmax runs
    /// in float32 as HF's does): q, k, v (N, P, heads·d) → (N, P, heads·d).
    /// </summary>
    private string UnmaskedAttention(OnnxGraphBuilder g, string q, string k, string v, int heads, int headDim)
    {
        var qHeads = g.Transpose(g.Reshape(q, 0, 0, heads, headDim), 0, 2, 1, 3);
        var kHeads = g.Transpose(g.Reshape(k, 0, 0, heads, headDim), 0, 2, 3, 1);
        var vHeads = g.Transpose(g.Reshape(v, 0, 0, heads, headDim), 0, 2, 1, 3);
        var scores = g.Mul(g.MatMul(qHeads, kHeads), g.FloatScalar((float)(1.0 / Math.Sqrt(headDim)), DType));
        var probabilities = DType == DataType.Float ? g.Softmax(scores) : g.Cast(g.Softmax(g.Cast(scores, DataType.Float)), DType);
        return g.Reshape(g.Transpose(g.MatMul(probabilities, vHeads), 0, 2, 1, 3), 0, 0, -1);
    }

    /// <summary>The decoder's rotary inputs, shared by every layer: per-token cos/sin flattened to (B·S, D/2) caches and
    /// the matching (B, S) cache rows 0…B·S−1.</summary>
    private DecoderRotaryInputs DecoderRotary(OnnxGraphBuilder g, string positionIds, string ids)
    {
        var half = config.HeadDim / 2;
        var (cos, sin) = g.MropeCosSin(positionIds, InverseFrequencies(config.RopeTheta, config.HeadDim), [.. config.MropeSection]);
        using var scope = g.Scope("rotary_cache");
        if (DType != DataType.Float)
        {
            // HF computes cos/sin in float32 and casts them to the activation dtype.
            (cos, sin) = (g.Cast(cos, DType), g.Cast(sin, DType));
        }

        var cosFlat = g.Reshape(cos, -1, half);
        var sinFlat = g.Reshape(sin, -1, half);
        var tokens = g.Gather(g.Shape(cosFlat), g.Int64Scalar(0));
        var rows = g.ReshapeTo(g.Range(g.Int64Scalar(0), tokens, g.Int64Scalar(1)), g.Shape(ids));
        return new DecoderRotaryInputs(cosFlat, sinFlat, rows);
    }

    private (string Hidden, string Pending) DecoderLayer(OnnxGraphBuilder g, int index, string hidden, string? pending, DecoderRotaryInputs rotary, string bias)
    {
        var p = Name($"model.layers.{index}");
        using var scope = g.Scope($"model/layers.{index}");
        var normed = InputNorm(g, p, ref hidden, pending);
        var (q, k, v) = QkvProjection(g, p, normed);
        q = g.RotaryEmbedding(q, rotary.Rows, rotary.Cos, rotary.Sin, config.NumAttentionHeads);
        k = g.RotaryEmbedding(k, rotary.Rows, rotary.Cos, rotary.Sin, config.NumKeyValueHeads);
        var context = g.Attention(q, k, v, bias, config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim, options.DecoderAttention, DType);
        var attentionOut = Projection(g, context, p + ".self_attn.o_proj.weight");
        var (normed2, residual) = g.SkipRmsNorm(attentionOut, hidden, weights.Tensor(g, p + ".post_attention_layernorm.weight"), RmsEpsilon, options.FusedDecoderSkipNorms, DType);
        return (residual, Mlp(g, p, normed2));
    }

    /// <summary>
    /// The last decoder layer for the pooled token only: keys and values from every position, the query, the attention
    /// output, the MLP and the final norm at the pooled column of each row. Returns the pooled hidden state (B, H).
    /// </summary>
    private string PrunedLastLayer(OnnxGraphBuilder g, int index, string hidden, string? pending, DecoderRotaryInputs rotary, string mask)
    {
        var p = Name($"model.layers.{index}");
        using var scope = g.Scope($"model/layers.{index}");
        var normed = InputNorm(g, p, ref hidden, pending);
        var (_, k, v) = QkvProjection(g, p, normed, includeQuery: false);
        k = g.RotaryEmbedding(k, rotary.Rows, rotary.Cos, rotary.Sin, config.NumKeyValueHeads);

        string column, keepIndex, queryRows, queryBias;
        using (g.Scope("pooled_query"))
        {
            column = g.LastTokenIndex(mask);
            keepIndex = g.Unsqueeze(column, 1);
            var length = g.Gather(g.Shape(mask), g.Int64Scalar(1));
            var batch = g.Gather(g.Shape(mask), g.Int64Scalar(0));

            // Cache row of (b, column[b]) in the flattened (B·S) rotary cache.
            var rowStarts = g.Mul(g.Range(g.Int64Scalar(0), batch, g.Int64Scalar(1)), length);
            queryRows = g.Unsqueeze(g.Add(rowStarts, column), 1);

            // The pooled query's row of HF's causal + padding mask: keys j ≤ column that are real tokens.
            var keyIndex = g.Unsqueeze(g.Range(g.Int64Scalar(0), length, g.Int64Scalar(1)), 0);
            var allowed = g.And(g.LessOrEqual(keyIndex, keepIndex), g.Cast(mask, DataType.Bool));
            queryBias = g.Unsqueeze(g.Where(allowed, g.FloatScalar(0f, DType), g.FloatScalar(OnnxBlocks.MinValue(DType), DType)), 1, 2);
        }

        var normedAtPool = g.GatherND(normed, keepIndex, batchDims: 1);
        var hiddenAtPool = g.Unsqueeze(g.GatherND(hidden, keepIndex, batchDims: 1), 1);
        var q = g.Unsqueeze(options.Int8Projections
            ? Int8Projection(g, normedAtPool, weights.Tensor(g, p + ".self_attn.q_proj.bias"), p + ".self_attn.q_proj.weight")
            : g.Add(g.MatMul(normedAtPool, weights.Linear(g, p + ".self_attn.q_proj.weight")), weights.Tensor(g, p + ".self_attn.q_proj.bias")), 1);
        q = g.RotaryEmbedding(q, queryRows, rotary.Cos, rotary.Sin, config.NumAttentionHeads);

        // GroupQueryAttention needs equal query and key lengths without a KV cache; the plain chain handles one query.
        var formulation = options.DecoderAttention == AttentionFormulation.GroupQueryAttention ? AttentionFormulation.MatMulSoftmax : options.DecoderAttention;
        var context = g.Attention(q, k, v, queryBias, config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim, formulation, DType);
        var attentionOut = Projection(g, context, p + ".self_attn.o_proj.weight");
        var (normed2, residual) = g.SkipRmsNorm(attentionOut, hiddenAtPool, weights.Tensor(g, p + ".post_attention_layernorm.weight"), RmsEpsilon, options.FusedDecoderSkipNorms, DType);
        var down = Mlp(g, p, normed2);
        using var final = g.Scope("norm");
        var last = g.SkipRmsNorm(down, residual, weights.Tensor(g, "model.norm.weight"), RmsEpsilon, options.FusedDecoderSkipNorms, DType).Output;
        return g.Squeeze(last, 1);
    }

    /// <summary>input_layernorm, with the previous layer's MLP output added to the residual stream first.</summary>
    private string InputNorm(OnnxGraphBuilder g, string p, ref string hidden, string? pending)
    {
        var weight = weights.Tensor(g, p + ".input_layernorm.weight");
        if (pending is null)
        {
            return g.RmsNorm(hidden, weight, RmsEpsilon, dtype: DType);
        }

        (var normed, hidden) = g.SkipRmsNorm(pending, hidden, weight, RmsEpsilon, options.FusedDecoderSkipNorms, DType);
        return normed;
    }

    /// <summary>q, k, v projections (with bias) as one MatMul on the concatenated weights, then split.</summary>
    private (string Q, string K, string V) QkvProjection(OnnxGraphBuilder g, string p, string normed, bool includeQuery = true)
    {
        var a = p + ".self_attn.";
        long qWidth = config.NumAttentionHeads * config.HeadDim, kvWidth = config.NumKeyValueHeads * config.HeadDim;
        if (options.Int8Projections)
        {
            var names = includeQuery
                ? (Weight: a + "qkv_proj.weight", Parts: new[] { a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight" }, Bias: weights.ConcatenatedVector(g, a + "qkv_proj.bias", a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias"))
                : (Weight: a + "kv_proj.weight", Parts: new[] { a + "k_proj.weight", a + "v_proj.weight" }, Bias: weights.ConcatenatedVector(g, a + "kv_proj.bias", a + "k_proj.bias", a + "v_proj.bias"));
            var projected = Int8Projection(g, normed, names.Bias, names.Weight, names.Parts);
            var split = includeQuery ? g.Split(projected, -1, qWidth, kvWidth, kvWidth) : g.Split(projected, -1, kvWidth, kvWidth);
            return includeQuery ? (split[0], split[1], split[2]) : (string.Empty, split[0], split[1]);
        }

        if (!includeQuery)
        {
            var kvOnly = g.Add(
                g.MatMul(normed, weights.Linear(g, a + "kv_proj.weight", a + "k_proj.weight", a + "v_proj.weight")),
                weights.ConcatenatedVector(g, a + "kv_proj.bias", a + "k_proj.bias", a + "v_proj.bias"));
            var kv = g.Split(kvOnly, -1, kvWidth, kvWidth);
            return (string.Empty, kv[0], kv[1]);
        }

        var fused = g.Add(
            g.MatMul(normed, weights.Linear(g, a + "qkv_proj.weight", a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight")),
            weights.ConcatenatedVector(g, a + "qkv_proj.bias", a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias"));
        var parts = g.Split(fused, -1, qWidth, kvWidth, kvWidth);
        return (parts[0], parts[1], parts[2]);
    }

    /// <summary>down_proj(silu(gate_proj(x)) · up_proj(x)), gate and up as one MatMul.</summary>
    private string Mlp(OnnxGraphBuilder g, string p, string x)
    {
        if (config.HiddenAct != "silu")
        {
            throw new ModelFormatException($"hidden_act '{config.HiddenAct}' is not supported by the exporter (Qwen2-VL uses silu).");
        }

        var m = p + ".mlp.";
        var gateUp = Projection(g, x, m + "gate_up_proj.weight", m + "gate_proj.weight", m + "up_proj.weight");
        var halves = g.Split(gateUp, -1, config.IntermediateSize, config.IntermediateSize);
        return Projection(g, g.SwiGlu(halves[0], halves[1]), m + "down_proj.weight");
    }

    private string Linear(OnnxGraphBuilder g, string x, string module) =>
        options.Int8Projections
            ? Int8Projection(g, x, weights.Tensor(g, module + ".bias"), module + ".weight")
            : g.Add(g.MatMul(x, weights.Linear(g, module + ".weight")), weights.Tensor(g, module + ".bias"));

    /// <summary><c>x · Wᵀ</c> (+ bias) of the (concatenated) Linear weights <paramref name="parts"/> stored as
    /// <paramref name="name"/>: float MatMul, or DynamicQuantizeMatMul on int8 weights with the bias fused.</summary>
    private string Projection(OnnxGraphBuilder g, string x, string name, params string[] parts) =>
        options.Int8Projections ? Int8Projection(g, x, null, name, parts) : g.MatMul(x, weights.Linear(g, name, parts));

    private string Int8Projection(OnnxGraphBuilder g, string x, string? bias, string name, params string[] parts)
    {
        var (codes, scales) = weights.Int8Linear(g, name, parts);
        return g.DynamicQuantizeMatMul(x, codes, scales, bias: bias);
    }

    private string ToModelType(OnnxGraphBuilder g, string x) => DType == DataType.Float ? x : g.Cast(x, DType);

    private string ToFloat(OnnxGraphBuilder g, string x) => DType == DataType.Float ? x : g.Cast(x, DataType.Float);

    /// <summary><c>θ^(−2k/dim)</c> for k &lt; dim/2, computed as HF does (float32 of the double power).</summary>
    internal static float[] InverseFrequencies(double theta, int dim)
    {
        var result = new float[dim / 2];
        for (var k = 0; k < result.Length; k++)
        {
            // torch: 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim)): a float32 exponent,
            // the power rounded to float32, then a float32 reciprocal.
            var exponent = (float)(2 * k) / dim;
            result[k] = 1f / (float)Math.Pow((float)theta, exponent);
        }

        return result;
    }

    private static string Name(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Fixed(long size) => size.ToString(CultureInfo.InvariantCulture);

    private static Vlm2VecBundleTensor Tensor(string name, string type, params string[] shape) =>
        new() { Name = name, ElementType = type, Shape = shape };

    private sealed record DecoderRotaryInputs(string Cos, string Sin, string Rows);
}
