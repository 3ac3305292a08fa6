namespace Vlm2Vec.Server;

/// <summary>
/// Names of the server's <see cref="System.Diagnostics.Metrics"/> instruments, for OpenTelemetry
/// (<c>AddMeter(Vlm2VecServerMetrics.MeterName)</c>), <c>dotnet-counters</c> or a <c>MeterListener</c>. Durations are in
/// seconds, following OpenTelemetry's conventions. docs/server.md describes each one.
/// </summary>
public static class Vlm2VecServerMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Vlm2Vec.Server";

    /// <summary>Counter of answered embeddings requests; tags <c>http.response.status_code</c> and <c>error.type</c> (the error code, when any).</summary>
    public const string Requests = "vlm2vec.server.requests";

    /// <summary>Histogram of request durations (s), from the first byte read to the last written; tag <c>http.response.status_code</c>.</summary>
    public const string RequestDuration = "vlm2vec.server.request.duration";

    /// <summary>Histogram of inputs per embeddings request.</summary>
    public const string RequestItems = "vlm2vec.server.request.items";

    /// <summary>Counter of inputs embedded; tag <c>vlm2vec.modality</c> (<c>text</c>, <c>image</c>, <c>image_text</c>).</summary>
    public const string ItemsEmbedded = "vlm2vec.server.items";

    /// <summary>Counter of prompt tokens embedded (image tokens included), as reported in <c>usage</c>.</summary>
    public const string Tokens = "vlm2vec.server.tokens";

    /// <summary>Histogram of rows per encoder batch.</summary>
    public const string BatchSize = "vlm2vec.server.batch.size";

    /// <summary>Histogram of padded token cells (rows × longest row) per encoder batch.</summary>
    public const string BatchTokens = "vlm2vec.server.batch.tokens";

    /// <summary>Histogram of encoder time per batch (s), collation included.</summary>
    public const string BatchDuration = "vlm2vec.server.batch.duration";

    /// <summary>Histogram of the time inputs wait in the queue before their batch starts (s).</summary>
    public const string QueueWait = "vlm2vec.server.queue.wait";

    /// <summary>Gauge of inputs waiting for a batch.</summary>
    public const string QueueDepth = "vlm2vec.server.queue.depth";

    /// <summary>Gauge of inputs admitted and not finished (preprocessing, queued or encoding); 429 above the limit.</summary>
    public const string ItemsInFlight = "vlm2vec.server.items.in_flight";
}
