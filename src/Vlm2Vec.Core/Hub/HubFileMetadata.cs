namespace Vlm2Vec.Hub;

/// <summary>What a HEAD on a file's resolve address tells (<c>HfFileMetadata</c>).</summary>
/// <param name="Commit">The commit the revision resolved to (<c>X-Repo-Commit</c>).</param>
/// <param name="Etag">The blob name: <c>X-Linked-Etag</c> (sha256 of an LFS file) or <c>ETag</c> (git blob sha1).</param>
/// <param name="Size">The content size: <c>X-Linked-Size</c> or <c>Content-Length</c>.</param>
/// <param name="DownloadUri">Where to fetch the content (the CDN address of a redirect, else the resolve address).</param>
internal sealed record HubFileMetadata(string Commit, string Etag, long Size, Uri DownloadUri);
