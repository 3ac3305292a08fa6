namespace Vlm2Vec.Hub;

/// <summary>What a <see cref="HubDownloadProgress"/> report is about.</summary>
public enum HubDownloadStage
{
    /// <summary>A file's transfer starts (or resumes: <see cref="HubDownloadProgress.FileBytesCompleted"/> is then above 0).</summary>
    FileStarted,

    /// <summary>More bytes of a file arrived.</summary>
    FileProgress,

    /// <summary>A transfer failed and is being retried; the byte counts may go down when a partial file had to be discarded.</summary>
    FileRetrying,

    /// <summary>A file was downloaded, verified and placed in the snapshot.</summary>
    FileCompleted,

    /// <summary>A file was already in the cache; nothing was transferred.</summary>
    FileCached,

    /// <summary>Every file of the request is in place.</summary>
    Completed,
}
