using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Training;
using static TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>InfoNCE (spec §1.5, §1.6) against values worked out by hand.</summary>
[Collection(TrainingCollection.Name)]
public sealed class ContrastiveLossTests : TorchTestBase
{
    // q1 = (1, 0), q2 = (0, 1); t1 = (0.6, 0.8), t2 = (1, 0).
    private static Tensor Queries() => tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);

    private static Tensor Targets() => tensor(new float[] { 0.6f, 0.8f, 1, 0 }, [2, 2]);

    [Fact]
    public void In_batch_query_to_target_matches_the_hand_computed_value()
    {
        // τ = 0.5: q1 scores [1.2, 2] with label 0 → log(1 + e^0.8); q2 scores [1.6, 0] with label 1 → log(1 + e^1.6).
        var expected = (Math.Log(1 + Math.Exp(0.8)) + Math.Log(1 + Math.Exp(1.6))) / 2;
        var loss = ContrastiveLoss.Compute(Queries(), Targets(), temperature: 0.5).item<float>();
        Assert.Equal(expected, loss, 5);
    }

    [Fact]
    public void Symmetric_adds_the_target_to_query_direction_and_averages()
    {
        // t1 scores queries [1.2, 1.6], label 0 → log(1 + e^0.4); t2 scores [2, 0], label 1 → log(1 + e^2).
        var forward = (Math.Log(1 + Math.Exp(0.8)) + Math.Log(1 + Math.Exp(1.6))) / 2;
        var backward = (Math.Log(1 + Math.Exp(0.4)) + Math.Log(1 + Math.Exp(2))) / 2;
        var loss = ContrastiveLoss.Compute(Queries(), Targets(), temperature: 0.5, symmetric: true).item<float>();
        Assert.Equal((forward + backward) / 2, loss, 5);
    }

    [Fact]
    public void Hard_negatives_use_the_label_i_times_k_plus_1_over_all_targets()
    {
        // Targets [p1, n1, p2, n2] = [(0.6, 0.8), (0.8, 0.6), (0, 1), (1, 0)], τ = 1.
        // q1 scores [0.6, 0.8, 0, 1], label 0; q2 scores [0.8, 0.6, 1, 0], label 2.
        var targets = tensor(new float[] { 0.6f, 0.8f, 0.8f, 0.6f, 0, 1, 1, 0 }, [4, 2]);
        static double LogSumExp(params double[] x) => Math.Log(x.Sum(Math.Exp));
        var expected = ((LogSumExp(0.6, 0.8, 0, 1) - 0.6) + (LogSumExp(0.8, 0.6, 1, 0) - 1)) / 2;
        var loss = ContrastiveLoss.Compute(Queries(), targets, hardNegativesPerQuery: 1, temperature: 1).item<float>();
        Assert.Equal(expected, loss, 5);

        // The same through explicit positive indices.
        Assert.Equal(expected, ContrastiveLoss.Compute(Queries(), targets, [0L, 2L], temperature: 1).item<float>(), 5);

        // Symmetric with hard negatives: only the positives score the queries. p1 → [0.6, 0.8] label 0; p2 → [0, 1] label 1.
        var backward = ((LogSumExp(0.6, 0.8) - 0.6) + (LogSumExp(0, 1) - 1)) / 2;
        var symmetric = ContrastiveLoss.Compute(Queries(), targets, hardNegativesPerQuery: 1, temperature: 1, symmetric: true).item<float>();
        Assert.Equal((expected + backward) / 2, symmetric, 5);
    }

    [Fact]
    public void Gradient_with_respect_to_the_queries_is_softmax_minus_one_hot_over_tau()
    {
        // d/dq_i of mean CE = (1/N) Σ_j (p_ij − y_ij) t_j / τ.
        var q = Queries().requires_grad_(true);
        var t = Targets();
        ContrastiveLoss.Compute(q, t, temperature: 0.5).backward();
        var p1 = Softmax(1.2, 2);
        var expected0 = new[] { ((p1[0] - 1) * 0.6 + p1[1] * 1) / 0.5 / 2, ((p1[0] - 1) * 0.8 + p1[1] * 0) / 0.5 / 2 };
        var grad = q.grad!.data<float>().ToArray();
        Assert.Equal(expected0[0], grad[0], 5);
        Assert.Equal(expected0[1], grad[1], 5);
    }

    [Fact]
    public void Bad_shapes_and_temperatures_are_refused_with_a_message()
    {
        var error = Assert.Throws<ArgumentException>(() => ContrastiveLoss.Compute(Queries(), Targets(), hardNegativesPerQuery: 1));
        Assert.Contains("need 4 targets", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ContrastiveLoss.Compute(Queries(), Targets(), temperature: 0));
        Assert.Throws<ArgumentException>(() => ContrastiveLoss.Compute(Queries(), Targets(), [0L, 0L]));
        Assert.Throws<ArgumentException>(() => ContrastiveLoss.Compute(Queries(), Targets(), [0L, 5L]));
    }

    private static double[] Softmax(params double[] x)
    {
        var sum = x.Sum(Math.Exp);
        return [.. x.Select(v => Math.Exp(v) / sum)];
    }
}
