using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Server.Batching;

/// <summary>
/// Coalesces the inputs of concurrent requests into encoder batches. A request's inputs are admitted against the
/// in-flight limit, prepared with the facade's <see cref="Vlm2VecPreprocessor"/> (format, decode, tokenise) on the
/// request's own thread, then queued. One loop forms batches in arrival order under a row, padded-token and patch budget,
/// waiting at most <see cref="DynamicBatchingOptions.MaxWait"/> after a batch's first input for companions; the batch is
/// collated by the same preprocessor and encoded, and each vector goes back to its request by index.
/// </summary>
/// <remarks>
/// A batch that fails in the encoder is retried row by row, so a bad input fails only its own request. Inputs of
/// requests that already failed or whose client went away are skipped. <see cref="StopAsync"/> refuses new requests
/// and lets everything queued finish.
/// </remarks>
internal sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly IVlm2VecEncoder _encoder;
    private readonly Vlm2VecPreprocessor _preprocessor;
    private readonly DynamicBatchingOptions _options;
    private readonly int _maxInFlight;
    private readonly ServerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Channel<PendingItem> _queue = Channel.CreateUnbounded<PendingItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _batchSlots;
    private readonly CancellationTokenSource _abort = new();
    private readonly long _maxWaitTicks;
    private readonly Task _loop;
    private long _inFlight;

    public DynamicBatcher(
        IVlm2VecEncoder encoder, Vlm2VecPreprocessor preprocessor, DynamicBatchingOptions options, int maxInFlightItems, ServerMetrics metrics, ILogger logger)
    {
        _encoder = encoder;
        _preprocessor = preprocessor;
        _options = options;
        _maxInFlight = maxInFlightItems;
        _metrics = metrics;
        _logger = logger;
        _batchSlots = new SemaphoreSlim(options.MaxConcurrentBatches, options.MaxConcurrentBatches);
        _maxWaitTicks = (long)(options.MaxWait.TotalSeconds * Stopwatch.Frequency);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Inputs admitted and not finished.</summary>
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Embeds one request's inputs; vectors in input order.</summary>
    /// <exception cref="BatcherUnavailableException">The queue is full or the batcher is stopping.</exception>
    /// <exception cref="BatchItemException">An input failed (the lowest failing index when several fail in preprocessing).</exception>
    /// <exception cref="OperationCanceledException">The request was cancelled, or the batcher was aborted.</exception>
    public async Task<EmbeddingOutcome> EmbedAsync(IReadOnlyList<MultimodalInput> inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            return new EmbeddingOutcome([], 0);
        }

        if (!TryAdmit(inputs.Count))
        {
            throw new BatcherUnavailableException(
                queueFull: true,
                $"The server is at capacity ({_maxInFlight:N0} inputs in flight); retry shortly.");
        }

        var job = new EmbeddingJob(inputs.Count, cancellationToken);
        var queued = 0;
        long tokens = 0;
        try
        {
            var prepared = Prepare(inputs, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            var now = Stopwatch.GetTimestamp();
            for (var i = 0; i < prepared.Length; i++)
            {
                tokens += prepared[i].Length;
                if (!_queue.Writer.TryWrite(new PendingItem(job, i, prepared[i], ServerMetrics.ModalityOf(inputs[i]), now)))
                {
                    throw new BatcherUnavailableException(queueFull: false, "The server is shutting down.");
                }

                queued++;
                _metrics.Enqueued();
            }
        }
        catch
        {
            job.Abandon();
            throw;
        }
        finally
        {
            // Inputs that never reached the queue are released here; queued ones when the loop finishes them.
            Release(inputs.Count - queued);
        }

        var vectors = await job.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new EmbeddingOutcome(vectors, tokens);
    }

    /// <summary>Refuses new requests and waits for every queued input; on <paramref name="cancellationToken"/>, aborts the rest.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _abort.CancelAsync().ConfigureAwait(false);
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _abort.Dispose();
        _batchSlots.Dispose();
    }

    private bool TryAdmit(int count)
    {
        while (true)
        {
            var current = Volatile.Read(ref _inFlight);
            if (current + count > _maxInFlight)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _inFlight, current + count, current) == current)
            {
                _metrics.InFlightChanged(count);
                return true;
            }
        }
    }

    private void Release(int count)
    {
        if (count > 0)
        {
            Interlocked.Add(ref _inFlight, -count);
            _metrics.InFlightChanged(-count);
        }
    }

    private PreparedInput[] Prepare(IReadOnlyList<MultimodalInput> inputs, CancellationToken cancellationToken)
    {
        var prepared = new PreparedInput[inputs.Count];
        if (inputs.Count == 1)
        {
            try
            {
                prepared[0] = _preprocessor.Prepare(inputs[0]);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new BatchItemException(0, ex);
            }

            return prepared;
        }

        var errors = new Exception?[inputs.Count];
        Parallel.For(
            0,
            inputs.Count,
            new ParallelOptions { MaxDegreeOfParallelism = _options.PreprocessingParallelism, CancellationToken = cancellationToken },
            i =>
            {
                try
                {
                    prepared[i] = _preprocessor.Prepare(inputs[i]);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    errors[i] = ex;
                }
            });
        for (var i = 0; i < errors.Length; i++)
        {
            if (errors[i] is { } error)
            {
                throw new BatchItemException(i, error);
            }
        }

        return prepared;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        PendingItem? carry = null;
        List<PendingItem>? forming = null;
        var holdingSlot = false;
        try
        {
            while (true)
            {
                await _batchSlots.WaitAsync(_abort.Token).ConfigureAwait(false);
                holdingSlot = true;
                var first = carry;
                carry = null;
                while (first is null)
                {
                    if (reader.TryRead(out var next))
                    {
                        first = Take(next);
                    }
                    else if (!await reader.WaitToReadAsync(_abort.Token).ConfigureAwait(false))
                    {
                        // Completed and empty: wait for the batches still running, then stop.
                        _batchSlots.Release();
                        holdingSlot = false;
                        await WaitForRunningBatchesAsync(CancellationToken.None).ConfigureAwait(false);
                        return;
                    }
                }

                forming = new List<PendingItem>(_options.MaxBatchSize) { first };
                var longest = first.Length;
                long patches = first.Patches;
                var deadline = first.EnqueuedTimestamp + _maxWaitTicks;
                while (forming.Count < _options.MaxBatchSize)
                {
                    if (reader.TryRead(out var next))
                    {
                        if (Take(next) is not { } item)
                        {
                            continue;
                        }

                        var newLongest = Math.Max(longest, item.Length);
                        if ((long)(forming.Count + 1) * newLongest > _options.MaxBatchTokens || patches + item.Patches > _options.MaxBatchPatches)
                        {
                            carry = item;
                            break;
                        }

                        forming.Add(item);
                        longest = newLongest;
                        patches += item.Patches;
                        continue;
                    }

                    var remaining = deadline - Stopwatch.GetTimestamp();
                    if (remaining <= 0 || !await WaitForMoreAsync(reader, remaining).ConfigureAwait(false))
                    {
                        break;
                    }
                }

                var batch = forming;
                forming = null;
                holdingSlot = false;
                _ = RunBatchAsync(batch);
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Aborted: fail whatever was taken or is still queued, and let the running batches see the cancellation.
            var aborted = new OperationCanceledException("The server stopped before this input was embedded.");
            foreach (var item in forming ?? [])
            {
                Finish(item, null, aborted);
            }

            if (carry is not null)
            {
                Finish(carry, null, aborted);
            }

            while (reader.TryRead(out var left))
            {
                _metrics.Dequeued(0);
                Finish(left, null, aborted);
            }

            if (holdingSlot)
            {
                _batchSlots.Release();
            }

            await WaitForRunningBatchesAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task WaitForRunningBatchesAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _options.MaxConcurrentBatches; i++)
        {
            await _batchSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        _batchSlots.Release(_options.MaxConcurrentBatches);
    }

    /// <summary>Accounts for an input taken off the queue; null when its request no longer needs it.</summary>
    private PendingItem? Take(PendingItem item)
    {
        _metrics.Dequeued(Stopwatch.GetElapsedTime(item.EnqueuedTimestamp).TotalSeconds);
        if (item.Job.IsAbandoned)
        {
            Release(1);
            return null;
        }

        return item;
    }

    private async Task<bool> WaitForMoreAsync(ChannelReader<PendingItem> reader, long remainingTicks)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds((double)remainingTicks / Stopwatch.Frequency));
        try
        {
            return await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_abort.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task RunBatchAsync(List<PendingItem> batch)
    {
        try
        {
            await EncodeAsync(batch).ConfigureAwait(false);
        }
        finally
        {
            _batchSlots.Release();
        }
    }

    private async Task EncodeAsync(List<PendingItem> batch)
    {
        if (batch.Count > 1 && batch.TrueForAll(item => item.Job.IsAbandoned))
        {
            foreach (var item in batch)
            {
                Finish(item, null, null);
            }

            return;
        }

        try
        {
            var rows = new PreparedInput[batch.Count];
            for (var i = 0; i < rows.Length; i++)
            {
                rows[i] = batch[i].Prepared;
            }

            var vectors = await EncodeRowsAsync(rows).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                Finish(batch[i], vectors[i], null);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException && batch.Count > 1)
        {
            ServerLog.BatchRetried(_logger, batch.Count, ex.Message);
            foreach (var item in batch)
            {
                await EncodeAsync([item]).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            if (ex is not OperationCanceledException)
            {
                ServerLog.ItemFailed(_logger, batch[0].Index, ex);
            }

            foreach (var item in batch)
            {
                Finish(item, null, ex);
            }
        }
    }

    private async Task<float[][]> EncodeRowsAsync(PreparedInput[] rows)
    {
        var started = Stopwatch.GetTimestamp();
        var collated = _preprocessor.Collate(rows);
        var vectors = await _encoder.EncodeAsync(collated, _abort.Token).ConfigureAwait(false);
        if (vectors is null || vectors.Length != rows.Length)
        {
            throw new InvalidOperationException(
                $"The encoder returned {vectors?.Length ?? 0} vectors for a batch of {rows.Length} rows; it must return one per row.");
        }

        foreach (var vector in vectors)
        {
            if (vector is null || vector.Length != _encoder.Info.Dimension)
            {
                throw new InvalidOperationException(
                    $"The encoder returned a vector of {vector?.Length ?? 0} values; the model's dimension is {_encoder.Info.Dimension}.");
            }
        }

        _metrics.Batch(rows.Length, (long)collated.BatchSize * collated.SequenceLength, Stopwatch.GetElapsedTime(started).TotalSeconds);
        return vectors;
    }

    /// <summary>Routes one input's result back to its request and releases its admission slot.</summary>
    private void Finish(PendingItem item, float[]? vector, Exception? error)
    {
        if (vector is not null)
        {
            item.Job.Complete(item.Index, vector);
            _metrics.Embedded(item.Modality, item.Length);
        }
        else if (error is not null)
        {
            item.Job.Fail(item.Index, error);
        }

        Release(1);
    }
}
