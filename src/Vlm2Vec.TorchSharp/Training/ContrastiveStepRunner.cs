using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Modeling;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// Computes one step's InfoNCE loss and accumulates its parameter gradients (into <c>.grad</c>; the caller zeroes,
/// clips and steps). Two paths:
/// <list type="bullet">
/// <item>plain: one forward with graph per side (queries, then targets), the loss, one backward (the reference's
/// <c>MMEBModel.forward</c>);</item>
/// <item>GradCache (spec §1.7): every chunk (queries first, then targets) runs without graph after its RNG state is
/// snapshotted; the loss is computed on the detached, concatenated representations and back-propagated to them only;
/// then each chunk is re-run with graph after restoring its RNG state (identical dropout masks) and
/// <c>Σ rep ⊙ ∂L/∂rep</c> is back-propagated, which accumulates exactly <c>∂L/∂θ</c>. Only one chunk's graph is alive
/// at a time: memory beyond one chunk grows with the batch by the representations and their gradients only.</item>
/// </list>
/// </summary>
internal sealed class ContrastiveStepRunner
{
    private readonly Qwen2VlForConditionalGeneration _model;
    private readonly BatchCollator _collator;

    public ContrastiveStepRunner(Qwen2VlForConditionalGeneration model, BatchCollator collator, double temperature, bool symmetric)
    {
        _model = model;
        _collator = collator;
        Temperature = temperature;
        Symmetric = symmetric;
    }

    public double Temperature { get; }

    public bool Symmetric { get; }

    /// <summary>Restore each chunk's RNG state before its re-forward (always on in training; off only to show in tests that it matters).</summary>
    public bool RestoreRngState { get; init; } = true;

    /// <summary>Runs the step; null chunk sizes on both sides take the plain path. Returns the loss.</summary>
    public double Run(ContrastiveBatch batch, int? queryChunkSize, int? targetChunkSize)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Queries.Count == 0)
        {
            throw new ArgumentException("The batch has no queries.", nameof(batch));
        }

        return queryChunkSize is null && targetChunkSize is null
            ? RunPlain(batch)
            : RunGradCache(batch, queryChunkSize ?? batch.Queries.Count, targetChunkSize ?? batch.Targets.Count);
    }

    private double RunPlain(ContrastiveBatch batch)
    {
        using var scope = NewDisposeScope();
        var queries = ChunkEncoder.Encode(_model, _collator, batch.Queries);
        var targets = ChunkEncoder.Encode(_model, _collator, batch.Targets);
        var loss = ContrastiveLoss.Compute(queries, targets, batch.Positives, Temperature, Symmetric);
        loss.backward();
        return loss.item<float>();
    }

    private double RunGradCache(ContrastiveBatch batch, int queryChunkSize, int targetChunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queryChunkSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetChunkSize, 1);
        var chunks = new List<(bool IsQuery, int Start, int Count)>();
        for (var start = 0; start < batch.Queries.Count; start += queryChunkSize)
        {
            chunks.Add((true, start, Math.Min(queryChunkSize, batch.Queries.Count - start)));
        }

        for (var start = 0; start < batch.Targets.Count; start += targetChunkSize)
        {
            chunks.Add((false, start, Math.Min(targetChunkSize, batch.Targets.Count - start)));
        }

        using var stepScope = NewDisposeScope();
        var rngStates = new Tensor?[chunks.Count];
        var queryReps = new List<Tensor>();
        var targetReps = new List<Tensor>();

        // 1–2. Forward every chunk without graph, remembering the RNG state it started from.
        using (no_grad())
        {
            for (var i = 0; i < chunks.Count; i++)
            {
                rngStates[i] = RestoreRngState ? get_rng_state() : null;
                using var chunkScope = NewDisposeScope();
                var reps = ChunkEncoder.Encode(_model, _collator, Rows(batch, chunks[i])).detach().MoveToOuterDisposeScope();
                (chunks[i].IsQuery ? queryReps : targetReps).Add(reps);
            }
        }

        // 3. The gradient cache: dL/dQ and dL/dT on detached representations.
        var allQueries = cat(queryReps, 0).detach().requires_grad_(true);
        var allTargets = cat(targetReps, 0).detach().requires_grad_(true);
        double lossValue;
        using (var lossScope = NewDisposeScope())
        {
            var loss = ContrastiveLoss.Compute(allQueries, allTargets, batch.Positives, Temperature, Symmetric);
            loss.backward();
            lossValue = loss.item<float>();
        }

        var queryGradient = allQueries.grad ?? throw new InvalidOperationException("The loss produced no gradient for the query representations.");
        var targetGradient = allTargets.grad ?? throw new InvalidOperationException("The loss produced no gradient for the target representations.");

        // 4. Re-run each chunk with graph under its original RNG state and back-propagate Σ rep ⊙ cached gradient.
        for (var i = 0; i < chunks.Count; i++)
        {
            using var chunkScope = NewDisposeScope();
            if (rngStates[i] is { } state)
            {
                set_rng_state(state);
            }

            var (isQuery, start, count) = chunks[i];
            var reps = ChunkEncoder.Encode(_model, _collator, Rows(batch, chunks[i]));
            var cached = (isQuery ? queryGradient : targetGradient).narrow(0, start, count);
            reps.mul(cached).sum().backward();
        }

        return lossValue;
    }

    private static IReadOnlyList<PreparedInput> Rows(ContrastiveBatch batch, (bool IsQuery, int Start, int Count) chunk)
    {
        var source = chunk.IsQuery ? batch.Queries : batch.Targets;
        var rows = new PreparedInput[chunk.Count];
        for (var j = 0; j < rows.Length; j++)
        {
            rows[j] = source[chunk.Start + j];
        }

        return rows;
    }
}
