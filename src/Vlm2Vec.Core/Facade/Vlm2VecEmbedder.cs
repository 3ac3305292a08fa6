using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec;

/// <summary>
/// Embeds lists of inputs with any <see cref="IVlm2VecEncoder"/>: preprocesses them in parallel with the encoder's own
/// <see cref="IVlm2VecEncoder.Preprocessor"/>, groups them into encoder batches by a row, token and patch budget
/// (length-sorted to cut padding), and returns the vectors in input order. Thread-safe; it does not own the encoder.
/// </summary>
/// <remarks>
/// Inputs are processed in windows of <see cref="EmbedderOptions.SortWindow"/>: a window is preprocessed (while the
/// previous one is being encoded), sorted by length and cut into batches. Cancellation is checked between batches and
/// passed to the encoder. When a batch of several rows fails in the encoder, its rows are retried one by one so that only
/// the failing input is reported.
/// </remarks>
public sealed class Vlm2VecEmbedder
{
    private readonly ILogger _logger;

    /// <summary>Creates an embedder over an encoder.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is not positive.</exception>
    public Vlm2VecEmbedder(IVlm2VecEncoder encoder, EmbedderOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        Options = options ?? new EmbedderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxBatchSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxBatchTokens, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxBatchPatches, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxPreprocessingParallelism, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.SortWindow, 1, nameof(options));
        Encoder = encoder;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The encoder.</summary>
    public IVlm2VecEncoder Encoder { get; }

    /// <summary>The batching settings.</summary>
    public EmbedderOptions Options { get; }

    /// <summary>The encoder's preprocessing.</summary>
    public Vlm2VecPreprocessor Preprocessor => Encoder.Preprocessor;

    /// <summary>Embeds the inputs; one L2-normalised vector per input, in input order.</summary>
    /// <exception cref="BatchItemException">An input failed (the first one found); its cause is the inner exception.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<MultimodalInput> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var results = await RunAsync(inputs, failFast: true, cancellationToken).ConfigureAwait(false);
        var vectors = new float[results.Length][];
        for (var i = 0; i < results.Length; i++)
        {
            vectors[i] = results[i].Embedding!;
        }

        return vectors;
    }

    /// <summary>Embeds one input.</summary>
    /// <exception cref="BatchItemException">The input failed; its cause is the inner exception.</exception>
    public async Task<float[]> EmbedAsync(MultimodalInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var vectors = await EmbedAsync([input], cancellationToken).ConfigureAwait(false);
        return vectors[0];
    }

    /// <summary>
    /// Embeds the inputs, reporting each one's outcome: a bad input (no content, an undecodable image, too long) gets
    /// its <see cref="BatchItemException"/> and the others are still embedded. Results are in input order.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async Task<IReadOnlyList<EmbeddingItemResult>> EmbedEachAsync(IReadOnlyList<MultimodalInput> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return await RunAsync(inputs, failFast: false, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EmbeddingItemResult[]> RunAsync(IReadOnlyList<MultimodalInput> inputs, bool failFast, CancellationToken cancellationToken)
    {
        var results = new EmbeddingItemResult[inputs.Count];
        if (inputs.Count == 0)
        {
            return results;
        }

        using var windowCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var windowSize = Options.SortWindow;
        var pending = PrepareWindowAsync(inputs, 0, Math.Min(windowSize, inputs.Count), windowCancellation.Token);
        try
        {
            for (var start = 0; start < inputs.Count; start += windowSize)
            {
                var window = await pending.ConfigureAwait(false);
                var nextStart = start + windowSize;
                pending = nextStart < inputs.Count
                    ? PrepareWindowAsync(inputs, nextStart, Math.Min(windowSize, inputs.Count - nextStart), windowCancellation.Token)
                    : Task.FromResult(Array.Empty<PreparedSlot>());

                var ready = new List<int>(window.Length);
                for (var i = 0; i < window.Length; i++)
                {
                    if (window[i].Error is { } error)
                    {
                        Record(results, EmbeddingItemResult.Failure(error), failFast);
                    }
                    else
                    {
                        ready.Add(i);
                    }
                }

                foreach (var batch in FormBatches(window, ready))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await EncodeAsync(window, batch, results, failFast, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await windowCancellation.CancelAsync().ConfigureAwait(false);
            try
            {
                await pending.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The look-ahead window was abandoned.
            }
        }

        return results;
    }

    private void Record(EmbeddingItemResult[] results, EmbeddingItemResult result, bool failFast)
    {
        if (result.Error is { } error)
        {
            if (failFast)
            {
                throw error;
            }

            EmbedderLog.ItemFailed(_logger, result.Index, error.InnerException?.Message ?? error.Message);
        }

        results[result.Index] = result;
    }

    private Task<PreparedSlot[]> PrepareWindowAsync(IReadOnlyList<MultimodalInput> inputs, int start, int count, CancellationToken cancellationToken)
    {
        var slots = new PreparedSlot[count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxPreprocessingParallelism, CancellationToken = cancellationToken };
        var preprocessor = Preprocessor;
        return PrepareAsync();

        async Task<PreparedSlot[]> PrepareAsync()
        {
            await Parallel.ForAsync(0, count, parallel, (i, token) =>
            {
                var index = start + i;
                token.ThrowIfCancellationRequested();
                try
                {
                    var input = inputs[index] ?? throw new InvalidInputException($"Input {index} is null.");
                    slots[i] = new PreparedSlot(index, preprocessor.Prepare(input, $"Input {index}"), null);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    slots[i] = new PreparedSlot(index, null, new BatchItemException(index, ex));
                }

                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);
            return slots;
        }
    }

    private List<List<int>> FormBatches(PreparedSlot[] window, List<int> ready)
    {
        if (Options.SortByLength)
        {
            // Longest first; ties keep input order, so batches are deterministic.
            ready.Sort((a, b) =>
            {
                var byLength = window[b].Prepared!.Length.CompareTo(window[a].Prepared!.Length);
                return byLength != 0 ? byLength : a.CompareTo(b);
            });
        }

        var batches = new List<List<int>>();
        var current = new List<int>();
        int longest = 0, patches = 0;
        foreach (var slot in ready)
        {
            var prepared = window[slot].Prepared!;
            var newLongest = Math.Max(longest, prepared.Length);
            var full = current.Count > 0 &&
                (current.Count + 1 > Options.MaxBatchSize
                 || (long)(current.Count + 1) * newLongest > Options.MaxBatchTokens
                 || (long)patches + prepared.PatchCount > Options.MaxBatchPatches);
            if (full)
            {
                batches.Add(current);
                current = [];
                newLongest = prepared.Length;
                patches = 0;
            }

            current.Add(slot);
            longest = newLongest;
            patches += prepared.PatchCount;
        }

        if (current.Count > 0)
        {
            batches.Add(current);
        }

        return batches;
    }

    private async Task EncodeAsync(PreparedSlot[] window, List<int> batch, EmbeddingItemResult[] results, bool failFast, CancellationToken cancellationToken)
    {
        var rows = new PreparedInput[batch.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = window[batch[i]].Prepared!;
        }

        try
        {
            var vectors = await EncodeRowsAsync(rows, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < rows.Length; i++)
            {
                Record(results, EmbeddingItemResult.Success(window[batch[i]].Index, vectors[i], rows[i].Length), failFast);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException && batch.Count > 1)
        {
            EmbedderLog.BatchRetried(_logger, batch.Count, ex.Message);
            foreach (var slot in batch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await EncodeAsync(window, [slot], results, failFast, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Record(results, EmbeddingItemResult.Failure(new BatchItemException(window[batch[0]].Index, ex)), failFast);
        }
    }

    private async Task<float[][]> EncodeRowsAsync(PreparedInput[] rows, CancellationToken cancellationToken)
    {
        var collated = Preprocessor.Collate(rows);
        EmbedderLog.Encoding(_logger, collated.BatchSize, collated.SequenceLength, collated.TotalPatches);
        var vectors = await Encoder.EncodeAsync(collated, cancellationToken).ConfigureAwait(false);
        if (vectors is null || vectors.Length != rows.Length)
        {
            throw new InvalidOperationException(
                $"The encoder returned {vectors?.Length ?? 0} vectors for a batch of {rows.Length} rows; it must return one per row.");
        }

        for (var i = 0; i < vectors.Length; i++)
        {
            if (vectors[i] is null || vectors[i].Length != Encoder.Info.Dimension)
            {
                throw new InvalidOperationException(
                    $"The encoder returned a vector of {vectors[i]?.Length ?? 0} values for row {i}; the model's dimension is {Encoder.Info.Dimension}.");
            }
        }

        return vectors;
    }

    private readonly record struct PreparedSlot(int Index, PreparedInput? Prepared, BatchItemException? Error);
}
