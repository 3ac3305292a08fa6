using System.Numerics.Tensors;

namespace Vlm2Vec.Evaluation;

/// <summary>
/// The ranking arithmetic of MMEB evaluation for one query whose candidate list has the positive at index 0 (spec §2.3).
/// Scores are dot products of L2-normalised vectors (cosine). Ties resolve to the lowest index, as VLM2Vec V1's
/// <c>np.argmax</c> does, so a candidate that ties with the positive never beats it: the positive's rank is
/// <c>1 + (number of candidates scoring strictly higher)</c>.
/// </summary>
/// <remarks>
/// With one relevant candidate, VLM2Vec@main's <c>RankingMetrics</c> reduce to: hit@k = recall@k = [rank ≤ k];
/// NDCG@k with linear gain = <c>1 / log2(rank + 1)</c> when rank ≤ k, else 0 (the ideal DCG is 1); MRR = 1 / rank.
/// </remarks>
public static class RetrievalMetrics
{
    /// <summary>Scores every candidate against the query: <c>scores[j] = query · candidates[j]</c>.</summary>
    /// <exception cref="ArgumentException">A vector's length differs from the query's, or <paramref name="scores"/> is too short.</exception>
    public static void Score(ReadOnlySpan<float> query, IReadOnlyList<float[]> candidates, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (scores.Length < candidates.Count)
        {
            throw new ArgumentException($"scores has room for {scores.Length} values; there are {candidates.Count} candidates.", nameof(scores));
        }

        for (var j = 0; j < candidates.Count; j++)
        {
            var candidate = candidates[j];
            if (candidate is null || candidate.Length != query.Length)
            {
                throw new ArgumentException($"Candidate {j} has {candidate?.Length ?? 0} values; the query has {query.Length}.", nameof(candidates));
            }

            scores[j] = TensorPrimitives.Dot(query, candidate);
        }
    }

    /// <summary>The predicted candidate: the highest score, the lowest index among equals (V1's <c>np.argmax</c>).</summary>
    /// <exception cref="ArgumentException">There are no scores.</exception>
    public static int PredictedIndex(ReadOnlySpan<float> scores)
    {
        if (scores.IsEmpty)
        {
            throw new ArgumentException("There must be at least one candidate score.", nameof(scores));
        }

        var best = 0;
        for (var j = 1; j < scores.Length; j++)
        {
            if (scores[j] > scores[best])
            {
                best = j;
            }
        }

        return best;
    }

    /// <summary>
    /// The 1-based rank of the positive (index <paramref name="positiveIndex"/>) when candidates are sorted by descending
    /// score with ties kept in index order: <c>1 + #{j : scores[j] &gt; scores[p]} + #{j &lt; p : scores[j] = scores[p]}</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The positive index is outside the scores.</exception>
    public static int RankOfPositive(ReadOnlySpan<float> scores, int positiveIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(positiveIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(positiveIndex, scores.Length);
        var positive = scores[positiveIndex];
        var rank = 1;
        for (var j = 0; j < scores.Length; j++)
        {
            if (scores[j] > positive || (j < positiveIndex && scores[j] == positive))
            {
                rank++;
            }
        }

        return rank;
    }

    /// <summary>Hit@k (= recall@k with one positive): 1 when the positive's rank is at most <paramref name="k"/>, else 0.</summary>
    public static double HitAt(int rank, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        return rank <= k ? 1.0 : 0.0;
    }

    /// <summary>NDCG@k with linear gain and one relevant candidate: <c>1 / log2(rank + 1)</c> when rank ≤ k, else 0.</summary>
    public static double NdcgAt(int rank, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        return rank <= k ? 1.0 / Math.Log2(rank + 1) : 0.0;
    }

    /// <summary>The reciprocal rank, <c>1 / rank</c> (MRR without a cut-off).</summary>
    public static double ReciprocalRank(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        return 1.0 / rank;
    }
}
