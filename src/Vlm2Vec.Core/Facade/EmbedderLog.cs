using Microsoft.Extensions.Logging;

namespace Vlm2Vec;

/// <summary>Log messages of <see cref="Vlm2VecEmbedder"/>.</summary>
internal static partial class EmbedderLog
{
    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Encoding a batch of {Rows} rows x {Length} tokens with {Patches} image patch rows.")]
    internal static partial void Encoding(ILogger logger, int rows, int length, int patches);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Input {Index} was not embedded: {Reason}")]
    internal static partial void ItemFailed(ILogger logger, int index, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "A batch of {Rows} rows failed in the encoder ({Reason}); retrying its rows one by one.")]
    internal static partial void BatchRetried(ILogger logger, int rows, string reason);
}
