using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Hub;

/// <summary>The hub client's log messages.</summary>
internal static partial class HubLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Request to {Url} failed ({Reason}); retry {Retry} of {MaxRetries} in {DelayMs} ms.")]
    public static partial void Retrying(ILogger logger, string url, string reason, int retry, int maxRetries, long delayMs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Transfer of '{File}' from '{Repo}' was cut at {Bytes} of {Size} bytes ({Reason}); resuming.")]
    public static partial void TransferCut(ILogger logger, string repo, string file, long bytes, long size, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "The server ignored the Range request for '{File}' from '{Repo}'; discarding {Bytes} partial bytes and downloading it whole.")]
    public static partial void RangeIgnored(ILogger logger, string repo, string file, long bytes);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Downloaded '{File}' from '{Repo}' does not match the hub's checksum ({Detail}); deleting it and downloading it again.")]
    public static partial void IntegrityRetry(ILogger logger, string repo, string file, string detail);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "The hub could not be reached for '{Repo}' ({Reason}); using the cached snapshot {Commit}.")]
    public static partial void UsingCachedSnapshot(ILogger logger, string repo, string commit, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "No file of '{Repo}' at {Commit} matches the filter; the snapshot folder is empty.")]
    public static partial void NothingSelected(ILogger logger, string repo, string commit);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Only {Free} bytes are free at {Folder}; '{File}' needs {Needed} more.")]
    public static partial void LowDiskSpace(ILogger logger, string folder, string file, long free, long needed);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "'{File}' is being downloaded by another process; waiting for it.")]
    public static partial void WaitingForLock(ILogger logger, string file);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "Cannot create a symlink at {Path}; copying the blob instead.")]
    public static partial void SymlinkFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Cannot write {Path} to the cache; continuing without it.")]
    public static partial void CacheWriteFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Resuming '{File}' from '{Repo}' at byte {Bytes}.")]
    public static partial void Resuming(ILogger logger, string repo, string file, long bytes);
}
