namespace Vlm2Vec.Hub;

/// <summary>
/// One progress report of a hub download: the current file's bytes and the whole request's bytes and files. "Completed"
/// bytes count what is on disk, so a cached file counts in full at once and a resumed file starts at its partial size.
/// </summary>
/// <param name="RepoId">The repository being downloaded.</param>
/// <param name="FileName">The file this report is about; <see langword="null"/> for <see cref="HubDownloadStage.Completed"/>.</param>
/// <param name="Stage">What happened.</param>
/// <param name="FileBytesCompleted">Bytes of <paramref name="FileName"/> on disk so far.</param>
/// <param name="FileBytesTotal">Size of <paramref name="FileName"/> as the hub advertises it.</param>
/// <param name="TotalBytesCompleted">Bytes of every file of the request on disk so far.</param>
/// <param name="TotalBytesTotal">Sum of the sizes of every file of the request.</param>
/// <param name="FilesCompleted">Files of the request that are in place (downloaded or found in the cache).</param>
/// <param name="FilesTotal">Files in the request.</param>
public readonly record struct HubDownloadProgress(
    string RepoId,
    string? FileName,
    HubDownloadStage Stage,
    long FileBytesCompleted,
    long FileBytesTotal,
    long TotalBytesCompleted,
    long TotalBytesTotal,
    int FilesCompleted,
    int FilesTotal);
