using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Cli;

/// <summary>The tool's own log messages (source-generated).</summary>
internal static partial class CliLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "Pulling '{Repo}' at '{Revision}' from {Endpoint} into {CacheFolder} (offline: {Offline}).")]
    public static partial void PullStarting(ILogger logger, string repo, string revision, Uri endpoint, string cacheFolder, bool offline);

    [LoggerMessage(EventId = 110, Level = LogLevel.Debug, Message = "Serving '{Model}' on {Addresses}.")]
    public static partial void ServeStarted(ILogger logger, string model, string addresses);
}
