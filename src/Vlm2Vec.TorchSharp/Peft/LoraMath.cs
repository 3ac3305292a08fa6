using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>PEFT's LoRA and DoRA merge formulas, computed in float32.</summary>
internal static class LoraMath
{
    /// <summary>
    /// LoRA: <c>W + s·B·A</c>. DoRA (with <paramref name="magnitude"/>): <c>(m / ‖W + s·B·A‖_row) ⊙ (W + s·B·A)</c>, the norm
    /// taken over each output row (dim 1 of the out × in matrix), as PEFT's <c>DoraLinearLayer.get_weight_norm</c>. All in
    /// float32 on the weight's device; the result has <paramref name="resultType"/>. The caller owns the result.
    /// </summary>
    public static Tensor MergedWeight(Tensor weight, Tensor loraA, Tensor loraB, Tensor? magnitude, double scaling, ScalarType resultType)
    {
        using var scope = NewDisposeScope();
        var merged = weight.dtype == ScalarType.Float32 ? weight.detach().clone() : weight.detach().to(ScalarType.Float32);
        var a = loraA.detach().to(ScalarType.Float32, merged.device);
        var b = loraB.detach().to(ScalarType.Float32, merged.device);
        merged.add_(b.matmul(a).mul_(scaling));
        if (magnitude is not null)
        {
            var norm = linalg.vector_norm(merged, 2, [1], true);
            var m = magnitude.detach().to(ScalarType.Float32, merged.device).view(-1, 1);
            merged.mul_(m.div(norm));
        }

        return merged.to(resultType).MoveToOuterDisposeScope();
    }

    /// <summary>The bias after merging a LoRA bias: <c>b + s·b_B</c> (float32, then <paramref name="resultType"/>).</summary>
    public static Tensor MergedBias(Tensor bias, Tensor loraBBias, double scaling, ScalarType resultType)
    {
        using var scope = NewDisposeScope();
        var merged = bias.detach().to(ScalarType.Float32).add(loraBBias.detach().to(ScalarType.Float32, bias.device).mul(scaling));
        return merged.to(resultType).MoveToOuterDisposeScope();
    }

    /// <summary>Row norms of <c>W + s·B·A</c> in float32: DoRA's magnitude at initialisation (B = 0 gives ‖W‖_row).</summary>
    public static Tensor RowNorms(Tensor weight, Tensor loraA, Tensor loraB, double scaling, ScalarType resultType)
    {
        using var scope = NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32).add(loraB.detach().to(ScalarType.Float32).matmul(loraA.detach().to(ScalarType.Float32)).mul(scaling));
        return linalg.vector_norm(w, 2, [1], false).to(resultType).MoveToOuterDisposeScope();
    }
}
