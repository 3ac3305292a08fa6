namespace Vlm2Vec.Hub;

/// <summary>
/// A Hugging Face hub download that failed for a reason the caller can act on. <see cref="Kind"/> says why; the message
/// names the repository and file and says what to do (fix a typo, set <c>HF_TOKEN</c>, accept a gated model's conditions,
/// go online, retry later).
/// </summary>
public sealed class HubException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public HubException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public HubException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public HubException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with its kind and the repository, file and HTTP status it concerns.</summary>
    /// <param name="kind">Why the download failed.</param>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="repoId">The repository id, when known.</param>
    /// <param name="fileName">The file inside the repository, when the failure concerns one file.</param>
    /// <param name="statusCode">The HTTP status the hub answered, when there was one.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public HubException(
        HubErrorKind kind,
        string message,
        string? repoId = null,
        string? fileName = null,
        int? statusCode = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        RepoId = repoId;
        FileName = fileName;
        StatusCode = statusCode;
    }

    /// <summary>Why the download failed.</summary>
    public HubErrorKind Kind { get; }

    /// <summary>The repository id, when known.</summary>
    public string? RepoId { get; }

    /// <summary>The file inside the repository, when the failure concerns one file.</summary>
    public string? FileName { get; }

    /// <summary>The HTTP status the hub answered, when there was one.</summary>
    public int? StatusCode { get; }
}
