using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Preprocessing;

/// <summary>Log messages of the preprocessing path.</summary>
internal static partial class PreprocessingLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "{Input} has {TokenCount} tokens, over MaxTokens {MaxTokens}: dropped the last {Dropped} text tokens before its final token (image tokens and the final, pooled token are kept).")]
    internal static partial void Truncated(ILogger logger, string input, int tokenCount, int maxTokens, int dropped);
}
