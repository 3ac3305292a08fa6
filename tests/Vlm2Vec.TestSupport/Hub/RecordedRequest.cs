namespace Vlm2Vec.TestSupport.Hub;

/// <summary>One request the fake hub or CDN received, recorded when it arrives; status and repo path are filled in as it is answered.</summary>
public sealed class RecordedRequest
{
    public RecordedRequest(bool cdn, string method, string path, string? range, string? authorization)
    {
        Cdn = cdn;
        Method = method;
        Path = path;
        Range = range;
        Authorization = authorization;
    }

    public bool Cdn { get; }

    public string Method { get; }

    public string Path { get; }

    public string? Range { get; }

    public string? Authorization { get; }

    /// <summary>The status answered; 0 while in progress, -1 when the client went away.</summary>
    public int Status { get; set; }

    public string? RepoPath { get; set; }
}
