using System.Diagnostics.Metrics;

namespace Vlm2Vec.Server;

/// <summary>The server's instruments (names in <see cref="Vlm2VecServerMetrics"/>), created from the host's <see cref="IMeterFactory"/>.</summary>
internal sealed class ServerMetrics
{
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<int> _requestItems;
    private readonly Counter<long> _items;
    private readonly Counter<long> _tokens;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<long> _batchTokens;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _queueWait;
    private long _queueDepth;
    private long _inFlight;

    public ServerMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(Vlm2VecServerMetrics.MeterName);
        _requests = meter.CreateCounter<long>(Vlm2VecServerMetrics.Requests, "{request}", "Embeddings requests answered.");
        _requestDuration = meter.CreateHistogram<double>(Vlm2VecServerMetrics.RequestDuration, "s", "Embeddings request duration.");
        _requestItems = meter.CreateHistogram<int>(Vlm2VecServerMetrics.RequestItems, "{input}", "Inputs per embeddings request.");
        _items = meter.CreateCounter<long>(Vlm2VecServerMetrics.ItemsEmbedded, "{input}", "Inputs embedded.");
        _tokens = meter.CreateCounter<long>(Vlm2VecServerMetrics.Tokens, "{token}", "Prompt tokens embedded (image tokens included).");
        _batchSize = meter.CreateHistogram<int>(Vlm2VecServerMetrics.BatchSize, "{row}", "Rows per encoder batch.");
        _batchTokens = meter.CreateHistogram<long>(Vlm2VecServerMetrics.BatchTokens, "{token}", "Padded token cells per encoder batch.");
        _batchDuration = meter.CreateHistogram<double>(Vlm2VecServerMetrics.BatchDuration, "s", "Encoder time per batch, collation included.");
        _queueWait = meter.CreateHistogram<double>(Vlm2VecServerMetrics.QueueWait, "s", "Time an input waits before its batch starts.");
        meter.CreateObservableGauge(Vlm2VecServerMetrics.QueueDepth, () => Volatile.Read(ref _queueDepth), "{input}", "Inputs waiting for a batch.");
        meter.CreateObservableGauge(Vlm2VecServerMetrics.ItemsInFlight, () => Volatile.Read(ref _inFlight), "{input}", "Inputs admitted and not finished.");
    }

    public long QueueDepth => Volatile.Read(ref _queueDepth);

    public long InFlight => Volatile.Read(ref _inFlight);

    public void RequestFinished(int statusCode, string? errorCode, double seconds)
    {
        var status = new KeyValuePair<string, object?>("http.response.status_code", statusCode);
        if (errorCode is null)
        {
            _requests.Add(1, status);
        }
        else
        {
            _requests.Add(1, status, new KeyValuePair<string, object?>("error.type", errorCode));
        }

        _requestDuration.Record(seconds, status);
    }

    public void RequestItems(int count) => _requestItems.Record(count);

    public static string ModalityOf(MultimodalInput input) =>
        input.Images.Count == 0 ? "text" : string.IsNullOrEmpty(input.Text) ? "image" : "image_text";

    public void Embedded(string modality, int tokens)
    {
        _items.Add(1, new KeyValuePair<string, object?>("vlm2vec.modality", modality));
        _tokens.Add(tokens);
    }

    public void Batch(int rows, long paddedTokens, double seconds)
    {
        _batchSize.Record(rows);
        _batchTokens.Record(paddedTokens);
        _batchDuration.Record(seconds);
    }

    public void Dequeued(double waitSeconds)
    {
        Interlocked.Decrement(ref _queueDepth);
        _queueWait.Record(waitSeconds);
    }

    public void Enqueued() => Interlocked.Increment(ref _queueDepth);

    public void InFlightChanged(long delta) => Interlocked.Add(ref _inFlight, delta);
}
