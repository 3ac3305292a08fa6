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
/// <c>Σ rep ⊙ ∂L/∂rep</c> is back-propagated, which accumulates exactly <c>∂L/∂θ</c>. At most two chunks' graphs are
/// alive at a time (see <see cref="KeepLastChunkGraphs"/>): memory beyond them grows with the batch by the
/// representations and their gradients only (and by the batch's prepared inputs unless they are deferred, see
/// <see cref="BatchInput"/>).</item>
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
        _visionFrozen = !model.named_parameters().Any(p => p.parameter.requires_grad && p.name.StartsWith("visual.", StringComparison.Ordinal));
    }

    private readonly bool _visionFrozen;

    /// <summary>
    /// With GradCache and a frozen vision tower (LoRA/DoRA, or full training with the tower frozen): keep each chunk's
    /// image features (and its collated batch without the pixels) from the first pass and feed them to the second instead
    /// of preparing the images and running the tower again (default on; off follows spec §1.7, which keeps only the
    /// representations between the passes: the kept features grow with the batch up to a constant cap). Exact — the tower has no trainable parameter and
    /// no dropout — and it removes most of GradCache's extra cost for image-heavy batches (the tower then runs once per
    /// image, as on the plain path), for <c>image tokens × hidden</c> floats per chunk, up to
    /// <see cref="MaxReusedVisionFeatureBytes"/> per step (chunks beyond it run the tower again). The kept features are
    /// copied into one reservation per step (see <see cref="FeatureStore"/>).
    /// </summary>
    public bool ReuseFrozenVisionFeatures { get; init; } = true;

    /// <summary>
    /// With GradCache, run the last chunk of each side with graph in the first pass and back-propagate that graph in the
    /// second instead of forwarding the chunk again (default on). Exact — the parameters have not changed between the
    /// passes and the chunk's dropout masks are the ones its re-forward would replay — and it saves two chunk forwards
    /// per step: a batch of one chunk per side costs what the plain path costs instead of about twice. The price is
    /// memory: two chunks' graphs are alive at once (the query chunk's while the targets run) instead of one, a constant
    /// that does not grow with the batch. Off re-forwards every chunk (spec §1.7 to the letter).
    /// </summary>
    public bool KeepLastChunkGraphs { get; init; } = true;

    /// <summary>
    /// The most image-feature bytes one step keeps for reuse (default 256 MiB: a 2B model's 1,024 images of 256 tokens
    /// would need 1.5 GiB in float32, which would defeat GradCache's bounded memory).
    /// </summary>
    public long MaxReusedVisionFeatureBytes { get; init; } = 256L << 20;

    public double Temperature { get; }

    public bool Symmetric { get; }

    /// <summary>Restore each chunk's RNG state before its re-forward (always on in training; off only to show in tests that it matters).</summary>
    public bool RestoreRngState { get; init; } = true;

    /// <summary>
    /// Prepare deferred inputs of the next chunk on worker threads while the current chunk runs (see
    /// <see cref="ContrastiveTrainingOptions.OverlapPreprocessing"/>); false prepares them on the calling thread.
    /// </summary>
    public bool OverlapPreparation { get; init; }

    /// <summary>Threads that prepare a chunk's deferred inputs (beside the model with overlap, else while the calling thread waits).</summary>
    public int PreparationThreads { get; init; } = 1;

    /// <summary>The chunks whose image features the last GradCache step kept for its second pass, and their bytes (diagnostics).</summary>
    public (int Chunks, long Bytes) LastStepReusedFeatures { get; private set; }

    /// <summary>Accumulated wall time of the forward passes without graph (GradCache's first pass), for benchmarks.</summary>
    public TimeSpan CachingTime { get; private set; }

    /// <summary>Accumulated wall time of the passes with graph and their backward (both paths), for benchmarks.</summary>
    public TimeSpan GraphTime { get; private set; }

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
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var parallelism = PreparationThreads;
        var queries = ChunkEncoder.Encode(_model, _collator, BatchInput.Materialise(batch.Queries, 0, batch.Queries.Count, parallelism));
        var targets = ChunkEncoder.Encode(_model, _collator, BatchInput.Materialise(batch.Targets, 0, batch.Targets.Count, parallelism));
        var loss = ContrastiveLoss.Compute(queries, targets, batch.Positives, Temperature, Symmetric);
        loss.backward();
        var value = loss.item<float>();
        GraphTime += clock.Elapsed;
        return value;
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

        var lastQueryChunk = chunks.Count - 1;
        for (var start = 0; start < batch.Targets.Count; start += targetChunkSize)
        {
            chunks.Add((false, start, Math.Min(targetChunkSize, batch.Targets.Count - start)));
        }

        // The chunks whose first-pass graph is kept (the last of each side), and the order in which chunk inputs are
        // needed: every chunk in pass 1, the others again in pass 2.
        var keep = new bool[chunks.Count];
        if (KeepLastChunkGraphs)
        {
            keep[lastQueryChunk] = true;
            keep[^1] = true;
        }

        // Deferred inputs of the next chunk are prepared on another thread while the current chunk runs (pass 1: every
        // chunk; pass 2: the chunks that are neither kept nor given their image features, appended once pass 1 is done).
        using var rows = new ChunkInputPipeline(batch, chunks, [.. Enumerable.Range(0, chunks.Count)], OverlapPreparation, PreparationThreads);
        using var stepScope = NewDisposeScope();
        var rngStates = new Tensor?[chunks.Count];
        var keptReps = new Tensor?[chunks.Count];
        var reuseVision = ReuseFrozenVisionFeatures && _visionFrozen;
        var imageFeatures = new Tensor?[chunks.Count];
        var collatedWithoutPixels = new CollatedBatch?[chunks.Count];
        var featureStore = new FeatureStore(MaxReusedVisionFeatureBytes);

        // What lives from the first pass to the second (the representations and each chunk's RNG state) is allocated here,
        // once, before any chunk runs: allocated per chunk, these small blocks sat between the chunks' transient buffers in
        // the native heap and kept it from reusing their space (the heap grew with the number of chunks).
        var hidden = _model.Config.HiddenSize;
        var allQueries = empty([batch.Queries.Count, hidden], dtype: ScalarType.Float32);
        var allTargets = empty([batch.Targets.Count, hidden], dtype: ScalarType.Float32);
        Tensor? rngStore = null;
        if (RestoreRngState)
        {
            using var probe = get_rng_state();
            rngStore = empty([chunks.Count, probe.shape[0]], dtype: probe.dtype);
        }

        // 1–2. Forward every chunk, without graph (remembering the RNG state it started from) unless its graph is kept.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < chunks.Count; i++)
        {
            using var chunkScope = NewDisposeScope();
            Tensor reps;
            if (keep[i])
            {
                keptReps[i] = ChunkEncoder.Encode(_model, _collator, rows.Next()).MoveToOuterDisposeScope();
                reps = keptReps[i]!.detach();
            }
            else
            {
                using var noGrad = no_grad();
                if (rngStore is not null)
                {
                    rngStore[i].copy_(get_rng_state());
                    rngStates[i] = rngStore[i].MoveToOuterDisposeScope();
                }

                var collated = _collator.Collate(rows.Next());
                reps = ChunkEncoder.Encode(_model, collated, null, out var features, reuseVision && !featureStore.Full).detach();
                if (features is not null && featureStore.TryKeep(features) is { } kept)
                {
                    imageFeatures[i] = kept.MoveToOuterDisposeScope();
                    collatedWithoutPixels[i] = ChunkEncoder.WithoutPixels(collated);
                }
            }

            (chunks[i].IsQuery ? allQueries : allTargets).narrow(0, chunks[i].Start, chunks[i].Count).copy_(reps);
        }

        rows.Append(Enumerable.Range(0, chunks.Count).Where(i => !keep[i] && collatedWithoutPixels[i] is null));
        LastStepReusedFeatures = (featureStore.Count, featureStore.UsedBytes);

        // Where the RNG stands after the step whichever chunks run again (as if every chunk had been re-forwarded).
        var endRngState = RestoreRngState ? get_rng_state() : null;
        CachingTime += clock.Elapsed;
        clock.Restart();

        // 3. The gradient cache: dL/dQ and dL/dT on detached representations.
        allQueries.requires_grad_(true);
        allTargets.requires_grad_(true);
        double lossValue;
        using (var lossScope = NewDisposeScope())
        {
            var loss = ContrastiveLoss.Compute(allQueries, allTargets, batch.Positives, Temperature, Symmetric);
            loss.backward();
            lossValue = loss.item<float>();
        }

        var queryGradient = allQueries.grad ?? throw new InvalidOperationException("The loss produced no gradient for the query representations.");
        var targetGradient = allTargets.grad ?? throw new InvalidOperationException("The loss produced no gradient for the target representations.");

        // 4. Back-propagate Σ rep ⊙ cached gradient: through the kept graphs first (freeing them), then through each other
        // chunk re-run with graph under its original RNG state.
        for (var i = 0; i < chunks.Count; i++)
        {
            if (keptReps[i] is { } kept)
            {
                using var chunkScope = NewDisposeScope();
                var (isQuery, start, count) = chunks[i];
                kept.mul((isQuery ? queryGradient : targetGradient).narrow(0, start, count)).sum().backward();
                kept.Dispose();
                keptReps[i] = null;
            }
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            if (keep[i])
            {
                continue;
            }

            using var chunkScope = NewDisposeScope();
            if (rngStates[i] is { } state)
            {
                // A copy: libtorch's CPU generator reads the state from the start of the tensor's storage, ignoring a
                // view's offset into the shared store (it would read the first chunk's row).
                using var copy = state.clone();
                set_rng_state(copy);
            }

            var (isQuery, start, count) = chunks[i];
            var collated = collatedWithoutPixels[i] ?? _collator.Collate(rows.Next());
            var reps = ChunkEncoder.Encode(_model, collated, imageFeatures[i], out _, captureImageFeatures: false);
            var cached = (isQuery ? queryGradient : targetGradient).narrow(0, start, count);
            reps.mul(cached).sum().backward();

            // The second pass may allocate no managed memory at all (reused features), so no collection would free the
            // chunk's finalizer-owned native objects before the next chunk's buffers are placed around them.
            chunkScope.Dispose();
            FinalizerOwnedNativeMemory.Release();
        }

        if (endRngState is not null)
        {
            set_rng_state(endRngState);
        }

        GraphTime += clock.Elapsed;
        return lossValue;
    }

    /// <summary>
    /// The first pass's image features kept for the second, copied one after another into a single tensor reserved at the
    /// first capture with room for the per-step cap. Why one reservation: kept as separate tensors, the 16–32 blocks of a
    /// batch (each well under glibc's mmap threshold) landed between the chunks' transient buffers in the native heap and
    /// split its free space, which then grew by 60–100 MiB at batch 256 (peak RSS 1.33× batch 8's instead of 1.23× in the
    /// training benchmark). A reservation above the mmap threshold is mapped on its own and only the pages written become
    /// resident, so the cap costs address space, not memory. The tensor is created in the caller's dispose scope.
    /// </summary>
    private sealed class FeatureStore(long capacityBytes)
    {
        private Tensor? _storage;

        /// <summary>Whether the cap is reached (no further chunk's features are captured).</summary>
        public bool Full => UsedBytes >= capacityBytes;

        /// <summary>Bytes kept so far.</summary>
        public long UsedBytes { get; private set; }

        /// <summary>Feature tensors kept so far.</summary>
        public int Count { get; private set; }

        /// <summary>A view of the store holding a copy of <paramref name="features"/>, or null when they do not fit under the cap.</summary>
        public Tensor? TryKeep(Tensor features)
        {
            var bytes = features.NumberOfElements * features.ElementSize;
            if (UsedBytes + bytes > capacityBytes || (_storage is not null && _storage.dtype != features.dtype))
            {
                return null;
            }

            if (_storage is null)
            {
                _storage = empty(capacityBytes / features.ElementSize, dtype: features.dtype, device: features.device);
                _storage.MoveToOuterDisposeScope();
            }

            var slot = _storage.narrow(0, UsedBytes / features.ElementSize, features.NumberOfElements).view(features.shape);
            slot.copy_(features);
            UsedBytes += bytes;
            Count++;
            return slot;
        }
    }

    /// <summary>The inputs of the chunks in the order the passes need them, the next one prepared while the current runs.</summary>
    private sealed class ChunkInputPipeline : IDisposable
    {
        private readonly ContrastiveBatch _batch;
        private readonly List<(bool IsQuery, int Start, int Count)> _chunks;
        private readonly List<int> _order;
        private readonly bool _overlap;
        private readonly int _threads;
        private int _next;
        private Task<IReadOnlyList<PreparedInput>>? _pending;

        public ChunkInputPipeline(ContrastiveBatch batch, List<(bool IsQuery, int Start, int Count)> chunks, List<int> order, bool overlap, int threads)
        {
            _batch = batch;
            _chunks = chunks;
            _order = order;
            _overlap = overlap;
            _threads = threads;
            _pending = order.Count > 0 ? Start(0) : null;
        }

        public IReadOnlyList<PreparedInput> Next()
        {
            var current = (_pending ?? throw new InvalidOperationException("No chunk inputs are queued.")).GetAwaiter().GetResult();
            _next++;
            _pending = _next < _order.Count ? Start(_next) : null;
            return current;
        }

        /// <summary>Queues more chunks (by index) after those already queued.</summary>
        public void Append(IEnumerable<int> chunks)
        {
            _order.AddRange(chunks);
            if (_pending is null && _next < _order.Count)
            {
                _pending = Start(_next);
            }
        }

        public void Dispose()
        {
            // An abandoned step (an exception) must not leave a preparation running into the next one.
            try
            {
                _pending?.Wait();
            }
            catch (AggregateException)
            {
            }
        }

        private Task<IReadOnlyList<PreparedInput>> Start(int position)
        {
            var (isQuery, start, count) = _chunks[_order[position]];
            var inputs = isQuery ? _batch.Queries : _batch.Targets;
            var deferred = false;
            for (var j = 0; j < count; j++)
            {
                deferred |= inputs[start + j].IsDeferred;
            }

            return deferred && _overlap
                ? Task.Run(() => BatchInput.Materialise(inputs, start, count, _threads))
                : Task.FromResult(BatchInput.Materialise(inputs, start, count, _threads));
        }
    }
}
