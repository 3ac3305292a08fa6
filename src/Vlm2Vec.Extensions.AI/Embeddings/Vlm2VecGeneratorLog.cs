using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Extensions.AI;

/// <summary>Log messages of <see cref="Vlm2VecEmbeddingGenerator"/>.</summary>
internal static partial class Vlm2VecGeneratorLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Item {Index} was not embedded and is returned empty: {Reason}")]
    internal static partial void ItemFailed(ILogger logger, int index, string reason);
}
