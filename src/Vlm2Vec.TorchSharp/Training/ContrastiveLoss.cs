using global::TorchSharp;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// VLM2Vec's InfoNCE loss over normalised representations (spec §1.5, §1.6): logits <c>s_ij = q_i · t_j / τ</c> over
/// every target of the batch (in-batch negatives, plus hard negatives when the targets hold them), cross-entropy with
/// query <c>i</c>'s positive as the label, averaged over the queries. Computed in float32 whatever the inputs' type.
/// </summary>
/// <remarks>
/// The reference trains query→target only. <c>symmetric</c> adds the target→query direction, averaged with it:
/// each query's positive target scores every query of the batch and its own query is the label (targets that are no
/// query's positive, i.e. hard negatives, take no part in that direction).
/// </remarks>
public static class ContrastiveLoss
{
    /// <summary>VLM2Vec's temperature (<c>--temperature 0.02</c>).</summary>
    public const double DefaultTemperature = 0.02;

    /// <summary>
    /// The loss for targets laid out <c>[pos, neg_1 … neg_K]</c> per query (row-major), so that query <c>i</c>'s
    /// positive is target <c>i·(K+1)</c>; <paramref name="hardNegativesPerQuery"/> = 0 is the plain in-batch case.
    /// </summary>
    /// <param name="queries">Query representations <c>(N, D)</c> (normalised by the model).</param>
    /// <param name="targets">Target representations <c>(N·(K+1), D)</c>.</param>
    /// <param name="hardNegativesPerQuery">K.</param>
    /// <param name="temperature">τ (positive).</param>
    /// <param name="symmetric">Add the target→query direction.</param>
    /// <returns>A scalar float32 tensor.</returns>
    /// <exception cref="ArgumentException">Shapes that do not fit the layout, or a non-positive temperature.</exception>
    public static Tensor Compute(Tensor queries, Tensor targets, int hardNegativesPerQuery = 0, double temperature = DefaultTemperature, bool symmetric = false)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegative(hardNegativesPerQuery);
        var n = queries.shape[0];
        var stride = hardNegativesPerQuery + 1L;
        if (targets.dim() != 2 || targets.shape[0] != n * stride)
        {
            throw new ArgumentException(
                $"With {hardNegativesPerQuery} hard negative(s) per query, {n} queries need {n * stride} targets laid out [pos, neg_1..neg_K] per query; got [{string.Join(", ", targets.shape)}].",
                nameof(targets));
        }

        var positives = new long[n];
        for (var i = 0; i < n; i++)
        {
            positives[i] = i * stride;
        }

        return Compute(queries, targets, positives, temperature, symmetric);
    }

    /// <summary>The loss with each query's positive given explicitly (any layout; every other target is a negative).</summary>
    /// <param name="queries">Query representations <c>(N, D)</c>.</param>
    /// <param name="targets">Target representations <c>(M, D)</c>, <c>M ≥ N</c>.</param>
    /// <param name="positiveIndices">For each query, the row of its positive in <paramref name="targets"/> (distinct rows).</param>
    /// <param name="temperature">τ (positive).</param>
    /// <param name="symmetric">Add the target→query direction.</param>
    /// <returns>A scalar float32 tensor.</returns>
    /// <exception cref="ArgumentException">Inconsistent shapes or indices, or a non-positive temperature.</exception>
    public static Tensor Compute(Tensor queries, Tensor targets, IReadOnlyList<long> positiveIndices, double temperature = DefaultTemperature, bool symmetric = false)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(positiveIndices);
        if (!(temperature > 0) || !double.IsFinite(temperature))
        {
            throw new ArgumentException($"The temperature must be a positive number; got {temperature}.", nameof(temperature));
        }

        if (queries.dim() != 2 || targets.dim() != 2 || queries.shape[1] != targets.shape[1] || queries.shape[0] == 0)
        {
            throw new ArgumentException(
                $"Queries (N, D) and targets (M, D) must be non-empty matrices of the same width; got [{string.Join(", ", queries.shape)}] and [{string.Join(", ", targets.shape)}].");
        }

        var n = queries.shape[0];
        var m = targets.shape[0];
        if (positiveIndices.Count != n)
        {
            throw new ArgumentException($"{n} queries need {n} positive indices; got {positiveIndices.Count}.", nameof(positiveIndices));
        }

        var seen = new HashSet<long>();
        var labels = new long[n];
        for (var i = 0; i < n; i++)
        {
            var p = positiveIndices[i];
            if (p < 0 || p >= m || !seen.Add(p))
            {
                throw new ArgumentException($"Positive index {p} of query {i} is out of range [0, {m}) or shared with another query.", nameof(positiveIndices));
            }

            labels[i] = p;
        }

        using var scope = NewDisposeScope();
        var q = queries.dtype == ScalarType.Float32 ? queries : queries.to(ScalarType.Float32);
        var t = targets.dtype == ScalarType.Float32 ? targets : targets.to(ScalarType.Float32);
        var labelTensor = tensor(labels, device: q.device);
        using Scalar temperatureScalar = temperature, two = 2.0;
        var logits = q.matmul(t.t()).div(temperatureScalar);
        var loss = nn.functional.cross_entropy(logits, labelTensor);
        if (symmetric)
        {
            var positives = t.index_select(0, labelTensor);
            var reverse = positives.matmul(q.t()).div(temperatureScalar);
            var backward = nn.functional.cross_entropy(reverse, arange(n, dtype: ScalarType.Int64, device: q.device));
            loss = loss.add(backward).div(two);
        }

        return loss.MoveToOuterDisposeScope();
    }
}
