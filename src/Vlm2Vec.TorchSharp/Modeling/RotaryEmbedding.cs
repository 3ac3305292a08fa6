using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// Rotary position embedding arithmetic shared by the decoder (M-RoPE, spec §3.8) and the vision tower (2-D RoPE,
/// spec §3.5), computed the way the reference does: inverse frequencies, angles, cos and sin in float32.
/// </summary>
internal static class RotaryEmbedding
{
    /// <summary><c>1 / theta^(arange(0, dim, 2) / dim)</c> in float32 (length <c>dim / 2</c>).</summary>
    public static Tensor InverseFrequencies(long dim, double theta)
    {
        using var scope = NewDisposeScope();
        var exponent = arange(0L, dim, 2L, dtype: ScalarType.Int64).to(ScalarType.Float32) / (float)dim;
        var power = tensor((float)theta, dtype: ScalarType.Float32).pow(exponent);
        return power.reciprocal().MoveToOuterDisposeScope();
    }

    /// <summary>The reference <c>rotate_half</c>: <c>cat(-x2, x1)</c> over the last axis.</summary>
    public static Tensor RotateHalf(Tensor x)
    {
        using var scope = NewDisposeScope();
        var half = x.shape[^1] / 2;
        var x1 = x[TensorIndex.Ellipsis, TensorIndex.Slice(0, half)];
        var x2 = x[TensorIndex.Ellipsis, TensorIndex.Slice(half, null)];
        return cat([-x2, x1], -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Decoder cos/sin for M-RoPE: angles <c>p_s · inv_freq</c> for each of the three position streams
    /// <paramref name="positionIds"/> <c>(3, B, L)</c>, duplicated to the head dimension, cos/sin in float32 then cast to
    /// <paramref name="dtype"/>, then the <c>mrope_section</c> chunks taken from streams t, h, w in turn. Returns
    /// <c>(cos, sin)</c> of shape <c>(B, 1, L, head_dim)</c>, ready to broadcast over heads.
    /// </summary>
    public static (Tensor Cos, Tensor Sin) MultimodalCosSin(Tensor positionIds, Tensor inverseFrequencies, IReadOnlyList<int> mropeSection, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inverseFrequencies; // (3, B, L, D/2)
        var emb = cat([freqs, freqs], -1);
        var cos = emb.cos().to(dtype);
        var sin = emb.sin().to(dtype);
        var sizes = new long[mropeSection.Count * 2];
        for (var i = 0; i < sizes.Length; i++)
        {
            sizes[i] = mropeSection[i % mropeSection.Count];
        }

        return (SelectSections(cos, sizes).MoveToOuterDisposeScope(), SelectSections(sin, sizes).MoveToOuterDisposeScope());
    }

    /// <summary>Applies the decoder rotation <c>x·cos + rotate_half(x)·sin</c> in the activation dtype.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        return ((x * cos) + (RotateHalf(x) * sin)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Vision cos/sin <c>(S, head_dim)</c> in float32 from per-patch (row, column) ids <paramref name="rowColumnIds"/>
    /// <c>(S, 2)</c>: angle vector <c>[r·inv_freq, c·inv_freq]</c> duplicated to the head dimension.
    /// </summary>
    public static (Tensor Cos, Tensor Sin) VisionCosSin(Tensor rowColumnIds, long headDim, double theta = 10000.0)
    {
        using var scope = NewDisposeScope();
        var angles = VisionAngles(rowColumnIds, headDim, theta);
        var emb = cat([angles, angles], -1);
        return (emb.cos().MoveToOuterDisposeScope(), emb.sin().MoveToOuterDisposeScope());
    }

    /// <summary>The reference <c>rot_pos_emb</c>: per patch <c>[r·inv_freq, c·inv_freq]</c> <c>(S, head_dim / 2)</c>, float32.</summary>
    public static Tensor VisionAngles(Tensor rowColumnIds, long headDim, double theta = 10000.0)
    {
        using var scope = NewDisposeScope();
        var inv = InverseFrequencies(headDim / 2, theta); // (headDim / 4)
        return (rowColumnIds.to(ScalarType.Float32).unsqueeze(-1) * inv).flatten(1).MoveToOuterDisposeScope();
    }

    /// <summary>Applies the vision rotation in float32 and casts back (<c>apply_rotary_pos_emb_vision</c>).</summary>
    /// <param name="x"><c>(S, heads, head_dim)</c>.</param>
    /// <param name="cos"><c>(S, head_dim)</c> float32.</param>
    /// <param name="sin"><c>(S, head_dim)</c> float32.</param>
    public static Tensor ApplyVision(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var dtype = x.dtype;
        var xf = x.to(ScalarType.Float32);
        var c = cos.unsqueeze(-2);
        var s = sin.unsqueeze(-2);
        return ((xf * c) + (RotateHalf(xf) * s)).to(dtype).MoveToOuterDisposeScope();
    }

    private static Tensor SelectSections(Tensor streams, long[] sizes)
    {
        var chunks = streams.split(sizes, -1);
        var picked = new Tensor[chunks.Length];
        for (var i = 0; i < chunks.Length; i++)
        {
            picked[i] = chunks[i][i % 3];
        }

        return cat(picked, -1).unsqueeze(1);
    }
}
