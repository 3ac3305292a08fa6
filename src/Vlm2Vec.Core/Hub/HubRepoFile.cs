namespace Vlm2Vec.Hub;

/// <summary>
/// One file of a repository listing (a <c>siblings</c> entry with <c>?blobs=true</c>, or a cached <c>trees/</c> entry).
/// </summary>
/// <param name="Path">The repo path, <c>/</c>-separated.</param>
/// <param name="Size">The file's size in bytes (for LFS files, the real file's size).</param>
/// <param name="BlobId">The git blob sha1 (for LFS files, of the pointer file).</param>
/// <param name="LfsSha256">The sha256 of an LFS file's content.</param>
/// <param name="LfsSize">The size of an LFS file's content.</param>
internal sealed record HubRepoFile(string Path, long? Size, string? BlobId, string? LfsSha256, long? LfsSize)
{
    /// <summary>The name of the file's blob in the cache: the LFS sha256, else the git blob sha1 (what the hub's etag is).</summary>
    public string? Etag => LfsSha256 ?? BlobId;

    /// <summary>The content's size.</summary>
    public long? ContentSize => LfsSize ?? Size;

    /// <summary>Whether the listing says enough to download without a per-file metadata request.</summary>
    public bool HasDownloadMetadata => Etag is not null && ContentSize is not null;
}
