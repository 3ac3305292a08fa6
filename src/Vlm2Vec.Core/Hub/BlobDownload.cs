namespace Vlm2Vec.Hub;

/// <summary>One blob to fetch into the cache.</summary>
/// <param name="Source">Where the content is (the hub's resolve address, or the CDN address a HEAD returned).</param>
/// <param name="BlobPath">The blob's final path, <c>blobs/{etag}</c>.</param>
/// <param name="Etag">The hub etag: sha256 of an LFS file, git blob sha1 of a regular file.</param>
/// <param name="Size">The content's size as the hub advertises it.</param>
/// <param name="Context">The repository, revision and file (for messages).</param>
internal sealed record BlobDownload(Uri Source, string BlobPath, string Etag, long Size, HubRequestContext Context);
