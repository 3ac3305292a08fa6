using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Server;

/// <summary>Log messages of the server.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Loading the model...")]
    internal static partial void Loading(ILogger logger);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Model '{ModelName}' ({Dimension} dimensions, {Engine}) is ready after {Seconds:F1} s; serving /v1/embeddings.")]
    internal static partial void Ready(ILogger logger, string modelName, int dimension, string engine, double seconds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Critical, Message = "The model could not be loaded; /health reports the failure and embeddings requests get 503.")]
    internal static partial void LoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Listening on {Url}, which is not a loopback address, with no API key: anyone who can reach it can use the model. Set an API key.")]
    internal static partial void ExposedWithoutKey(ILogger logger, string url);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Shutting down: finishing {InFlight} input(s) in flight.")]
    internal static partial void Draining(ILogger logger, long inFlight);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "A batch of {Rows} rows failed in the encoder ({Reason}); retrying its rows one by one.")]
    internal static partial void BatchRetried(ILogger logger, int rows, string reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Input {Index} of a request failed in the encoder.")]
    internal static partial void ItemFailed(ILogger logger, int index, Exception exception);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "Unexpected error answering {Path}.")]
    internal static partial void Unexpected(ILogger logger, string path, Exception exception);
}
