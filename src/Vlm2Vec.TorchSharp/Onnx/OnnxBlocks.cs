using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>
/// The Qwen2-VL / VLM2Vec building blocks written with <see cref="OnnxGraphBuilder"/>, in the formulations that the
/// exactness experiments (tests/…/Onnx) showed to match the reference (vlm2vec-spec.md §3.5–3.8, §1.4). Each block
/// takes the formulation to use so the exporter and the benchmarks can switch; the defaults are the exact and fastest
/// choice on ORT 1.31 (Onnx/README.md has the measurements).
/// </summary>
internal static class OnnxBlocks
{
    // ---- normalisation --------------------------------------------------------------------------------------

    /// <summary>RMSNorm <c>w · x / √(mean(x²) + ε)</c> over the last axis with float32 statistics.</summary>
    public static string RmsNorm(
        this OnnxGraphBuilder g,
        string x,
        string weight,
        float epsilon,
        RmsNormFormulation formulation = RmsNormFormulation.SimplifiedLayerNormalization,
        DataType dtype = DataType.Float)
    {
        switch (formulation)
        {
            case RmsNormFormulation.SimplifiedLayerNormalization:
                return g.SimplifiedLayerNormalization(x, weight, epsilon);
            case RmsNormFormulation.RmsNormalization:
                return g.RmsNormalization(x, weight, epsilon);
            case RmsNormFormulation.OpChain:
                var x32 = dtype == DataType.Float ? x : g.Cast(x, DataType.Float);
                var meanSquare = g.ReduceMean(g.Mul(x32, x32), [-1]);
                var normed = g.Div(x32, g.Sqrt(g.Add(meanSquare, g.FloatScalar(epsilon))));

                // HF casts the normalised value back to the activation dtype before multiplying by the weight.
                return g.Mul(dtype == DataType.Float ? normed : g.Cast(normed, dtype), weight);
            default:
                throw new ArgumentOutOfRangeException(nameof(formulation), formulation, null);
        }
    }

    /// <summary>
    /// Residual add then RMSNorm: returns (normalised, residual sum). Both forms are exact; on ORT's CPU provider the
    /// fused com.microsoft <c>SkipSimplifiedLayerNormalization</c> measured about 2× slower than <c>Add</c> +
    /// <c>SimplifiedLayerNormalization</c>, so unfused is the default; CUDA is expected to favour the fused kernel
    /// (to be measured on a GPU).
    /// </summary>
    public static (string Output, string Sum) SkipRmsNorm(
        this OnnxGraphBuilder g,
        string x,
        string residual,
        string weight,
        float epsilon,
        bool fused = false,
        DataType dtype = DataType.Float)
    {
        if (fused)
        {
            return g.SkipSimplifiedLayerNormalization(x, residual, weight, epsilon);
        }

        var sum = g.Add(residual, x);
        return (g.RmsNorm(sum, weight, epsilon, RmsNormFormulation.SimplifiedLayerNormalization, dtype), sum);
    }

    /// <summary>LayerNorm with weight and bias over the last axis (ai.onnx LayerNormalization, float32 statistics).</summary>
    public static string LayerNorm(this OnnxGraphBuilder g, string x, string weight, string bias, float epsilon) =>
        g.LayerNormalization(x, weight, bias, epsilon);

    /// <summary>Residual add then LayerNorm: returns (normalised, residual sum); fused = com.microsoft
    /// <c>SkipLayerNormalization</c>.</summary>
    public static (string Output, string Sum) SkipLayerNorm(
        this OnnxGraphBuilder g,
        string x,
        string residual,
        string weight,
        string bias,
        float epsilon,
        bool fused = true)
    {
        if (fused)
        {
            return g.SkipLayerNormalization(x, residual, weight, bias, epsilon);
        }

        var sum = g.Add(residual, x);
        return (g.LayerNormalization(sum, weight, bias, epsilon), sum);
    }

    // ---- rotary position embedding --------------------------------------------------------------------------

    /// <summary>
    /// M-RoPE cos/sin per token, each (B, S, H/2) float32, from <paramref name="positionIds3"/> (3, B, S) int64:
    /// half-dim k uses the t, h or w stream by <paramref name="mropeSection"/>. Written as one MatMul of the float
    /// positions (B, S, 3) with a (3, H/2) matrix holding <c>inv_freq[k]</c> in the row of k's stream and zeros
    /// elsewhere, so each angle is the single float32 product <c>position · inv_freq[k]</c>, bit-identical to HF.
    /// </summary>
    public static (string Cos, string Sin) MropeCosSin(this OnnxGraphBuilder g, string positionIds3, float[] invFreq, ReadOnlySpan<int> mropeSection)
    {
        var half = invFreq.Length;
        if (mropeSection.Length != 3 || mropeSection[0] + mropeSection[1] + mropeSection[2] != half)
        {
            throw new ArgumentException($"mrope_section must have 3 parts summing to {half} (head_dim / 2).", nameof(mropeSection));
        }

        var selection = new float[3 * half];
        for (var k = 0; k < half; k++)
        {
            var stream = k < mropeSection[0] ? 0 : k < mropeSection[0] + mropeSection[1] ? 1 : 2;
            selection[(stream * half) + k] = invFreq[k];
        }

        using var scope = g.Scope("mrope");
        var selectionName = g.AddInitializer(UniqueName(g, "mrope.inv_freq_by_stream"), selection, [3, half]);
        // Cast before Transpose: ORT 1.31 at ORT_ENABLE_ALL crashes the process (SIGSEGV) on
        // Transpose(int64) → Cast(float) → MatMul(constant) (see Onnx/README.md).
        var positions = g.Transpose(g.Cast(positionIds3, DataType.Float), 1, 2, 0);
        var angles = g.MatMul(positions, selectionName);
        return (g.Cos(angles), g.Sin(angles));
    }

    /// <summary>
    /// Vision 2-D rotary cos/sin per patch, each (P, H/2) float32, from (row, column) ids <paramref name="rowColumn"/>
    /// (P, 2) int64: angles <c>[row · inv_freq, column · inv_freq]</c> (one MatMul with a block matrix; float32
    /// products exactly as HF's <c>outer(seq, inv_freq)</c> lookup).
    /// </summary>
    public static (string Cos, string Sin) VisionRotaryCosSin(this OnnxGraphBuilder g, string rowColumn, float[] invFreq)
    {
        var quarter = invFreq.Length;
        var selection = new float[2 * 2 * quarter];
        for (var k = 0; k < quarter; k++)
        {
            selection[k] = invFreq[k];
            selection[(2 * quarter) + quarter + k] = invFreq[k];
        }

        using var scope = g.Scope("vision_rotary");
        var selectionName = g.AddInitializer(UniqueName(g, "vision_rotary.inv_freq_by_axis"), selection, [2, 2 * quarter]);
        var angles = g.MatMul(g.Cast(rowColumn, DataType.Float), selectionName);
        return (g.Cos(angles), g.Sin(angles));
    }

    /// <summary>
    /// Rotate-half RoPE on <paramref name="x"/> (B, S, N·H) with per-token <paramref name="cos"/>/<paramref name="sin"/>
    /// (B, S, H/2) of the same element type as x.
    /// </summary>
    public static string ApplyRotary(
        this OnnxGraphBuilder g,
        string x,
        string cos,
        string sin,
        int numHeads,
        int headDim,
        RotaryFormulation formulation = RotaryFormulation.MicrosoftRotaryFlattenedCache)
    {
        var half = headDim / 2;
        switch (formulation)
        {
            case RotaryFormulation.MicrosoftRotaryFlattenedCache:
                {
                    var cosFlat = g.Reshape(cos, -1, half);
                    var sinFlat = g.Reshape(sin, -1, half);
                    var tokens = g.Gather(g.Shape(cosFlat), g.Int64Scalar(0));
                    var flatPositions = g.Range(g.Int64Scalar(0), tokens, g.Int64Scalar(1));
                    var positions = g.ReshapeTo(flatPositions, g.Shape(x, 0, 2));
                    return g.RotaryEmbedding(x, positions, cosFlat, sinFlat, numHeads);
                }

            case RotaryFormulation.OnnxRotaryPerTokenCache:
                return g.OnnxRotaryEmbedding(x, cos, sin, positionIds: null, numHeads);
            case RotaryFormulation.Explicit:
                {
                    var heads = g.Reshape(x, 0, 0, numHeads, headDim);
                    var cosFull = g.Unsqueeze(g.Concat(-1, cos, cos), 2);
                    var sinFull = g.Unsqueeze(g.Concat(-1, sin, sin), 2);
                    var halves = g.Split(heads, -1, half, half);
                    var rotated = g.Concat(-1, g.Neg(halves[1]), halves[0]);
                    var y = g.Add(g.Mul(heads, cosFull), g.Mul(rotated, sinFull));
                    return g.Reshape(y, 0, 0, -1);
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(formulation), formulation, null);
        }
    }

    /// <summary>
    /// M-RoPE in one com.microsoft <c>MRotaryEmbedding</c> node from position ids (3, B, S) and cos/sin tables
    /// (max_position, H/2) (see <see cref="RotaryTables"/>).
    /// </summary>
    public static string ApplyMrope(
        this OnnxGraphBuilder g,
        string x,
        string positionIds3,
        string cosTable,
        string sinTable,
        ReadOnlySpan<int> mropeSection,
        int numHeads)
    {
        Span<long> section = [mropeSection[0], mropeSection[1], mropeSection[2]];
        return g.MRotaryEmbedding(x, positionIds3, cosTable, sinTable, section, numHeads);
    }

    /// <summary>cos/sin tables (max_position, H/2) of the float32 angle <c>p · inv_freq[k]</c>, for the table-based
    /// rotary operators.</summary>
    public static (float[] Cos, float[] Sin) RotaryTables(float[] invFreq, int maxPositions)
    {
        var half = invFreq.Length;
        var cos = new float[maxPositions * half];
        var sin = new float[maxPositions * half];
        for (var p = 0; p < maxPositions; p++)
        {
            for (var k = 0; k < half; k++)
            {
                var angle = (float)p * invFreq[k];
                cos[(p * half) + k] = (float)Math.Cos(angle);
                sin[(p * half) + k] = (float)Math.Sin(angle);
            }
        }

        return (cos, sin);
    }

    // ---- attention ------------------------------------------------------------------------------------------

    /// <summary>
    /// HF eager's decoder mask as an additive bias (B, 1, S, S): 0 where key j ≤ query i and key j is a real token,
    /// the dtype's minimum elsewhere (a fully masked padded row then softmaxes to uniform, as in HF).
    /// </summary>
    public static string CausalPaddingBias(this OnnxGraphBuilder g, string attentionMask, DataType dtype = DataType.Float)
    {
        using var scope = g.Scope("causal_padding_bias");
        var keyIsReal = g.Unsqueeze(g.Cast(attentionMask, DataType.Bool), 1, 2);
        var length = g.Gather(g.Shape(attentionMask), g.Int64Scalar(1));
        var index = g.Range(g.Int64Scalar(0), length, g.Int64Scalar(1));
        var causal = g.LessOrEqual(g.Unsqueeze(index, 0), g.Unsqueeze(index, 1));
        var allowed = g.And(causal, keyIsReal);
        return g.Where(allowed, g.FloatScalar(0f, dtype), g.FloatScalar(MinValue(dtype), dtype));
    }

    /// <summary>
    /// The ViT's block-diagonal mask as an additive bias (1, 1, P, P) from <paramref name="cuSeqlens"/> (n + 1) int64,
    /// <c>[0, len₀, len₀ + len₁, …, P]</c>: patches attend only within their own image (temporal slice).
    /// </summary>
    public static string BlockDiagonalBias(this OnnxGraphBuilder g, string cuSeqlens, DataType dtype = DataType.Float)
    {
        using var scope = g.Scope("block_diagonal_bias");
        var patches = g.Gather(cuSeqlens, g.Int64Scalar(-1));
        var index = g.Range(g.Int64Scalar(0), patches, g.Int64Scalar(1));
        var ends = g.Slice(cuSeqlens, [1], [long.MaxValue], [0]);
        var pastEnds = g.Cast(g.GreaterOrEqual(g.Unsqueeze(index, 1), g.Unsqueeze(ends, 0)), DataType.Int64);
        var segment = g.ReduceSum(pastEnds, [1], keepDims: false);
        var same = g.Equal(g.Unsqueeze(segment, 1), g.Unsqueeze(segment, 0));
        var bias = g.Where(same, g.FloatScalar(0f, dtype), g.FloatScalar(MinValue(dtype), dtype));
        return g.Unsqueeze(bias, 0, 1);
    }

    /// <summary>
    /// Softmax attention <c>softmax(q·kᵀ/√H + bias)·v</c> on q (B, S, N·H), k/v (B, T, Nkv·H) and an additive
    /// <paramref name="bias"/> (B or 1, 1, S, T) of the activation dtype. Query head h reads KV head h / (N / Nkv).
    /// For <see cref="AttentionFormulation.GroupQueryAttention"/> the bias must include the causal part; the op's own
    /// causal masking is on as well. Softmax runs in float32 for every formulation.
    /// </summary>
    public static string Attention(
        this OnnxGraphBuilder g,
        string q,
        string k,
        string v,
        string bias,
        int numHeads,
        int kvHeads,
        int headDim,
        AttentionFormulation formulation = AttentionFormulation.MultiHeadAttention,
        DataType dtype = DataType.Float)
    {
        using var scope = g.Scope("attention");
        switch (formulation)
        {
            case AttentionFormulation.MultiHeadAttention:
                if (kvHeads != numHeads)
                {
                    k = g.RepeatKvHeads(k, kvHeads, numHeads / kvHeads, headDim);
                    v = g.RepeatKvHeads(v, kvHeads, numHeads / kvHeads, headDim);
                }

                return g.MultiHeadAttention(q, k, v, numHeads, bias);
            case AttentionFormulation.OnnxAttention:
                // softmax_precision = 1 (FLOAT) keeps the softmax in float32 for float16 inputs.
                return g.OnnxAttention(q, k, v, bias, numHeads, kvHeads, softmaxPrecision: dtype == DataType.Float ? 0 : 1);
            case AttentionFormulation.MatMulSoftmax:
                return g.MatMulSoftmaxAttention(q, k, v, bias, numHeads, kvHeads, headDim, dtype);
            case AttentionFormulation.GroupQueryAttention:
                {
                    var shape = g.Shape(q, 0, 2);
                    var batch = g.Gather(shape, g.Int64Constant(0));
                    var length = g.Gather(shape, g.Int64Scalar(1));
                    var lastIndex = g.Cast(g.Sub(length, g.Int64Scalar(1)), DataType.Int32);
                    var seqlensK = g.Expand(lastIndex, batch);
                    return g.GroupQueryAttention(q, k, v, seqlensK, g.Cast(length, DataType.Int32), numHeads, kvHeads, bias);
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(formulation), formulation, null);
        }
    }

    /// <summary>(B, T, Nkv·H) → (B, T, Nkv·G·H), each KV head repeated G times in place (HF's <c>repeat_kv</c> order).</summary>
    public static string RepeatKvHeads(this OnnxGraphBuilder g, string kv, int kvHeads, int groups, int headDim)
    {
        var split = g.Reshape(kv, 0, 0, kvHeads, 1, headDim);
        var repeated = g.Expand(split, g.Int64Constant(1, 1, 1, groups, 1));
        return g.Reshape(repeated, 0, 0, -1);
    }

    private static string MatMulSoftmaxAttention(
        this OnnxGraphBuilder g,
        string q,
        string k,
        string v,
        string bias,
        int numHeads,
        int kvHeads,
        int headDim,
        DataType dtype)
    {
        var groups = numHeads / kvHeads;

        // q: (B, S, Nkv, G, H) → (B, Nkv, G, S, H); k: (B, T, Nkv, H) → (B, Nkv, 1, H, T); v → (B, Nkv, 1, T, H).
        var qHeads = g.Transpose(g.Reshape(q, 0, 0, kvHeads, groups, headDim), 0, 2, 3, 1, 4);
        var kHeads = g.Unsqueeze(g.Transpose(g.Reshape(k, 0, 0, kvHeads, headDim), 0, 2, 3, 1), 2);
        var vHeads = g.Unsqueeze(g.Transpose(g.Reshape(v, 0, 0, kvHeads, headDim), 0, 2, 1, 3), 2);
        var scores = g.Mul(g.MatMul(qHeads, kHeads), g.FloatScalar((float)(1.0 / Math.Sqrt(headDim)), dtype));
        var bias5 = g.Unsqueeze(bias, 2);
        string probabilities;
        if (dtype == DataType.Float)
        {
            probabilities = g.Softmax(g.Add(scores, bias5));
        }
        else
        {
            // HF eager: scores in the activation dtype, softmax in float32, probabilities cast back.
            var scores32 = g.Add(g.Cast(scores, DataType.Float), g.Cast(bias5, DataType.Float));
            probabilities = g.Cast(g.Softmax(scores32), dtype);
        }

        var context = g.MatMul(probabilities, vHeads);
        return g.Reshape(g.Transpose(context, 0, 3, 1, 2, 4), 0, 0, -1);
    }

    // ---- activations ----------------------------------------------------------------------------------------

    /// <summary>QuickGELU <c>x · σ(1.702 x)</c> (the ViT MLP).</summary>
    public static string QuickGelu(this OnnxGraphBuilder g, string x, ActivationFormulation formulation = ActivationFormulation.Fused, DataType dtype = DataType.Float) =>
        formulation == ActivationFormulation.Fused
            ? g.QuickGelu(x, 1.702f)
            : g.Mul(x, g.Sigmoid(g.Mul(x, g.FloatScalar(1.702f, dtype))));

    /// <summary>Exact (erf) GELU (the patch merger's MLP).</summary>
    public static string Gelu(this OnnxGraphBuilder g, string x, ActivationFormulation formulation = ActivationFormulation.Fused, DataType dtype = DataType.Float)
    {
        if (formulation == ActivationFormulation.Fused)
        {
            return g.Options.OpsetVersion >= 20 ? g.Gelu(x) : g.MicrosoftGelu(x);
        }

        var erf = g.Erf(g.Mul(x, g.FloatScalar((float)(1.0 / Math.Sqrt(2.0)), dtype)));
        return g.Mul(g.Mul(x, g.FloatScalar(0.5f, dtype)), g.Add(erf, g.FloatScalar(1f, dtype)));
    }

    /// <summary>SwiGLU <c>silu(gate) · up</c> (the decoder MLP before down_proj).</summary>
    public static string SwiGlu(this OnnxGraphBuilder g, string gate, string up, ActivationFormulation formulation = ActivationFormulation.Fused) =>
        formulation == ActivationFormulation.Fused
            ? g.Mul(g.QuickGelu(gate, 1f), up)
            : g.Mul(g.Mul(gate, g.Sigmoid(gate)), up);

    // ---- pooling --------------------------------------------------------------------------------------------

    /// <summary>
    /// VLM2Vec's pooled position per row (B) int64: <c>L − 1</c> for every row when all rows end with a real token
    /// (left padding), else <c>sum(mask) − 1</c> per row (−1, an all-padding row, wraps to <c>L − 1</c> as in Python).
    /// </summary>
    public static string LastTokenIndex(this OnnxGraphBuilder g, string attentionMask)
    {
        using var scope = g.Scope("last_token_index");
        var mask = g.Cast(attentionMask, DataType.Int64);
        var length = g.Gather(g.Shape(mask), g.Int64Scalar(1));
        var lastColumn = g.Gather(mask, g.Int64Scalar(-1), axis: 1);
        var allLeftPadded = g.Equal(g.ReduceMin(lastColumn, [0], keepDims: false), g.Int64Scalar(1));
        var lengths = g.Sub(g.ReduceSum(mask, [1], keepDims: false), g.Int64Scalar(1));
        var wrapped = g.Where(g.Less(lengths, g.Int64Scalar(0)), g.Add(lengths, length), lengths);
        return g.Where(allLeftPadded, g.Sub(length, g.Int64Scalar(1)), wrapped);
    }

    /// <summary>The hidden state at <see cref="LastTokenIndex"/> of each row: (B, S, D) → (B, D).</summary>
    public static string PoolLastToken(this OnnxGraphBuilder g, string hidden, string attentionMask)
    {
        var index = g.LastTokenIndex(attentionMask);
        return g.GatherND(hidden, g.Unsqueeze(index, 1), batchDims: 1);
    }

    /// <summary>L2 normalisation over the last axis.</summary>
    public static string L2Normalize(this OnnxGraphBuilder g, string x, L2NormFormulation formulation = L2NormFormulation.ReduceL2Clamp, DataType dtype = DataType.Float)
    {
        if (formulation == L2NormFormulation.LpNormalization)
        {
            return g.LpNormalization(x);
        }

        var norm = g.Max(g.ReduceL2(x, [-1]), g.FloatScalar(1e-12f, dtype));
        return g.Div(x, norm);
    }

    // ---- multimodal merge -----------------------------------------------------------------------------------

    /// <summary>
    /// Overwrites the rows of <paramref name="embeds"/> (B, S, D) whose token is <paramref name="imageTokenId"/> with
    /// <paramref name="features"/> (F, D), in reading order over the batch (HF's <c>masked_scatter</c>). Rows without
    /// image tokens, and batches without any (F = 0), pass through unchanged.
    /// </summary>
    public static string ScatterImageFeatures(
        this OnnxGraphBuilder g,
        string embeds,
        string inputIds,
        string features,
        long imageTokenId,
        ImageScatterFormulation formulation = ImageScatterFormulation.NonZeroScatterND)
    {
        using var scope = g.Scope("image_scatter");
        var isImage = g.Equal(inputIds, g.Int64Scalar(imageTokenId));
        if (formulation == ImageScatterFormulation.NonZeroScatterND)
        {
            var indices = g.Transpose(g.NonZero(isImage), 1, 0);
            return g.ScatterND(embeds, indices, features);
        }

        var flags = g.Reshape(g.Cast(isImage, DataType.Int64), -1);
        var rowIndex = g.Max(g.Sub(g.CumSum(flags, 0), g.Int64Scalar(1)), g.Int64Scalar(0));
        var zeroRow = g.Mul(g.Slice(embeds, [0, 0], [1, 1], [0, 1]), g.FloatScalar(0f));
        var padded = g.Concat(0, features, g.Reshape(zeroRow, 1, -1));
        var gathered = g.ReshapeTo(g.Gather(padded, rowIndex), g.Shape(embeds));
        return g.Where(g.Unsqueeze(isImage, -1), gathered, embeds);
    }

    /// <summary>The most negative finite value of the activation dtype (HF's <c>torch.finfo(dtype).min</c>).</summary>
    public static float MinValue(DataType dtype) => dtype switch
    {
        DataType.Float => float.MinValue,
        DataType.Float16 => (float)Half.MinValue,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Attention biases are float or float16."),
    };

    private static string UniqueName(OnnxGraphBuilder g, string baseName)
    {
        var name = baseName;
        for (var i = 1; g.HasValue(name); i++)
        {
            name = FormattableString.Invariant($"{baseName}_{i}");
        }

        return name;
    }
}
