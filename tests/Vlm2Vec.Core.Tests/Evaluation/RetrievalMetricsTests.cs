using Vlm2Vec.Evaluation;

namespace Vlm2Vec.Core.Tests.Evaluation;

public sealed class RetrievalMetricsTests
{
    [Fact]
    public void A_tie_with_the_positive_is_a_hit_as_with_numpy_argmax()
    {
        float[] scores = [0.5f, 0.5f, 0.2f];
        Assert.Equal(0, RetrievalMetrics.PredictedIndex(scores));
        Assert.Equal(1, RetrievalMetrics.RankOfPositive(scores));
        Assert.Equal(1.0, RetrievalMetrics.HitAt(RetrievalMetrics.RankOfPositive(scores), 1));
    }

    [Fact]
    public void Ties_above_the_positive_resolve_to_the_lowest_index()
    {
        float[] scores = [0.2f, 0.9f, 0.5f, 0.9f];
        Assert.Equal(1, RetrievalMetrics.PredictedIndex(scores));
        Assert.Equal(4, RetrievalMetrics.RankOfPositive(scores)); // 0.9, 0.9 and 0.5 are above it
    }

    [Fact]
    public void A_duplicate_of_the_positive_scores_the_same_and_never_beats_it()
    {
        float[] query = [0.6f, 0.8f];
        float[] positive = [0.8f, 0.6f];
        var candidates = new List<float[]> { positive, new[] { 1f, 0f }, (float[])positive.Clone(), new[] { 0f, 1f } };
        var scores = new float[4];
        RetrievalMetrics.Score(query, candidates, scores);

        Assert.Equal(0.96f, scores[0], 6);
        Assert.Equal(scores[0], scores[2]);
        Assert.Equal(0.8f, scores[3], 6);
        Assert.Equal(0, RetrievalMetrics.PredictedIndex(scores));
        Assert.Equal(1, RetrievalMetrics.RankOfPositive(scores));
    }

    [Fact]
    public void The_rank_of_a_positive_not_at_index_zero_counts_earlier_ties()
    {
        float[] scores = [0.7f, 0.3f, 0.7f, 0.9f];
        Assert.Equal(3, RetrievalMetrics.RankOfPositive(scores, 2)); // 0.9 above, the earlier 0.7 before it
        Assert.Equal(2, RetrievalMetrics.RankOfPositive(scores, 0));
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 0.63092975357145743)] // 1 / log2(3)
    [InlineData(3, 0.5)] // 1 / log2(4)
    [InlineData(4, 0.43067655807339306)] // 1 / log2(5)
    [InlineData(5, 0.38685280723454163)] // 1 / log2(6)
    [InlineData(6, 0.0)] // outside the top 5
    public void Ndcg_at_5_with_linear_gain_for_the_positive_at_each_rank(int rank, double expected)
    {
        Assert.Equal(expected, RetrievalMetrics.NdcgAt(rank, 5), 14);
    }

    [Fact]
    public void Ndcg_from_scores_places_the_positive_where_the_scores_put_it()
    {
        // Positive (index 0) at 0.5: beaten by 0.9, 0.8 and 0.6 → rank 4.
        float[] scores = [0.5f, 0.9f, 0.1f, 0.8f, 0.6f, 0.5f];
        var rank = RetrievalMetrics.RankOfPositive(scores);
        Assert.Equal(4, rank);
        Assert.Equal(1 / Math.Log2(5), RetrievalMetrics.NdcgAt(rank, 5), 14);
        Assert.Equal(1.0, RetrievalMetrics.HitAt(rank, 5));
        Assert.Equal(0.0, RetrievalMetrics.HitAt(rank, 3));
        Assert.Equal(0.25, RetrievalMetrics.ReciprocalRank(rank));
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.PredictedIndex([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RetrievalMetrics.RankOfPositive([0.1f], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => RetrievalMetrics.NdcgAt(0, 5));
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.Score([1f, 0f], [[1f]], new float[1]));
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.Score([1f], [[1f], [0f]], new float[1]));
    }
}
