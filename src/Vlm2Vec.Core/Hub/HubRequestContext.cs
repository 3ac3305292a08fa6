namespace Vlm2Vec.Hub;

/// <summary>What a request is for, so that an error can name the repository, revision and file and say what to do.</summary>
/// <param name="RepoId">The repository.</param>
/// <param name="Revision">The revision asked for.</param>
/// <param name="FileName">The file, for a per-file request.</param>
/// <param name="IsListing">Whether this is the repository-listing API call (a bare 404 then means the repository).</param>
internal sealed record HubRequestContext(string RepoId, string Revision, string? FileName, bool IsListing);
