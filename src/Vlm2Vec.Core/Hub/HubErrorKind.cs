namespace Vlm2Vec.Hub;

/// <summary>Why a Hugging Face hub download failed; the <see cref="HubException"/> message says what to do about it.</summary>
public enum HubErrorKind
{
    /// <summary>The repository id is not of the form <c>organisation/name</c> (or a bare <c>name</c>).</summary>
    InvalidRepositoryId,

    /// <summary>The hub does not know the repository (HTTP 404), or the token sent has no access to it.</summary>
    RepositoryNotFound,

    /// <summary>The branch, tag or commit does not exist in the repository.</summary>
    RevisionNotFound,

    /// <summary>The file does not exist in the repository at that revision.</summary>
    FileNotFound,

    /// <summary>The hub refused an anonymous request (HTTP 401): the repository is private or gated, or the id is misspelled.</summary>
    AuthenticationRequired,

    /// <summary>The hub rejected the token that was sent (HTTP 401): expired, revoked or mistyped.</summary>
    InvalidToken,

    /// <summary>The repository is gated and the token's account has not been granted access (accept its conditions on the hub).</summary>
    GatedRepository,

    /// <summary>The hub denied access (HTTP 403) for another reason, typically a token without read permission.</summary>
    AccessDenied,

    /// <summary>Offline mode is on and the cache does not hold what was asked for (or holds only part of it).</summary>
    OfflineCacheMiss,

    /// <summary>A downloaded file's sha256 / git hash or size differs from what the hub advertised, twice in a row.</summary>
    IntegrityCheckFailed,

    /// <summary>The hub or the CDN could not be reached, or transfers kept failing, after all retries.</summary>
    NetworkFailure,

    /// <summary>The hub kept answering with a server error (5xx, 429, 408) after all retries.</summary>
    ServerError,

    /// <summary>The server answered something the hub protocol does not allow (missing headers, malformed listing, unsafe paths).</summary>
    UnexpectedResponse,
}
