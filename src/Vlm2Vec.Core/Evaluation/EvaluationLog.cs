using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Evaluation;

/// <summary>Log messages of the evaluation engine.</summary>
internal static partial class EvaluationLog
{
    [LoggerMessage(EventId = 401, Level = LogLevel.Debug, Message = "Skipped a malformed row: {Message}")]
    internal static partial void RowSkipped(ILogger logger, string message);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Dataset {Dataset}: skipped {Skipped} malformed row(s); {Kept} row(s) remain.")]
    internal static partial void RowsSkipped(ILogger logger, string dataset, int skipped, int kept);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "Dataset {Dataset}: {Message}")]
    internal static partial void InputFailed(ILogger logger, string dataset, string message);

    [LoggerMessage(EventId = 404, Level = LogLevel.Warning, Message = "Dataset {Dataset}: {Failed} row(s) left out because their query or a candidate could not be embedded; scored on {Scored} row(s).")]
    internal static partial void RowsFailed(ILogger logger, string dataset, int failed, int scored);

    [LoggerMessage(EventId = 405, Level = LogLevel.Information, Message = "Dataset {Dataset}: {Rows} rows, {Queries} unique queries, {Candidates} unique candidates ({Cached} from the embedding cache).")]
    internal static partial void DatasetPlan(ILogger logger, string dataset, int rows, int queries, int candidates, int cached);

    [LoggerMessage(EventId = 406, Level = LogLevel.Warning, Message = "The embedding cache file '{Path}' ends in a partial record ({Bytes} bytes); it was cut back to the last whole record.")]
    internal static partial void CacheTruncated(ILogger logger, string path, long bytes);

    [LoggerMessage(EventId = 407, Level = LogLevel.Warning, Message = "The embedding cache '{Path}' cannot be used ({Reason}); evaluating without it.")]
    internal static partial void CacheUnavailable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 408, Level = LogLevel.Warning, Message = "No thumbnail for '{Image}': {Reason}")]
    internal static partial void ThumbnailFailed(ILogger logger, string image, string reason);
}
