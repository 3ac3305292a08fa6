using System.Net;

namespace Vlm2Vec.Hub;

/// <summary>
/// Turns a hub error response into a <see cref="HubException"/> whose message says what to do. Follows
/// <c>hf_raise_for_status</c>: the <c>X-Error-Code</c> header (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo)
/// wins over the status, and a 401 to an anonymous request means "private, gated or misspelled" because the hub does not
/// tell those apart.
/// </summary>
internal static class HubErrors
{
    private const string InvalidCredentialsMessage = "Invalid credentials in Authorization header";

    public static HubException FromResponse(HttpResponseMessage response, HubRequestContext context, HubSettings settings, bool tokenSent)
    {
        var status = (int)response.StatusCode;
        var errorCode = Header(response, "X-Error-Code");
        var errorMessage = Header(response, "X-Error-Message");
        var repo = context.RepoId;
        var file = context.FileName;
        var repoPage = $"{settings.EndpointBase}/{repo}";
        var tokenPage = $"{settings.EndpointBase}/settings/tokens";
        var howToSetToken =
            $"Create a read token at {tokenPage}, then set HF_TOKEN (or HubClientOptions.Token, or run 'hf auth login', which writes {settings.TokenPath}).";
        var serverSays = errorMessage is null ? string.Empty : $" The hub says: \"{errorMessage}\".";

        if (errorCode == "GatedRepo")
        {
            var who = tokenSent
                ? "the account of the token sent has not been granted access"
                : "no token was sent";
            return new HubException(
                HubErrorKind.GatedRepository,
                $"'{repo}' is a gated repository and {who} (HTTP {status}). Open {repoPage} while logged in, accept its conditions, " +
                $"wait for access to be granted, and use a token of that account. {(tokenSent ? string.Empty : howToSetToken)}".TrimEnd() + serverSays,
                repo, file, status);
        }

        if (errorCode == "RevisionNotFound")
        {
            return new HubException(
                HubErrorKind.RevisionNotFound,
                $"Revision '{context.Revision}' does not exist in '{repo}' (HTTP {status}). Use an existing branch or tag (see {repoPage}/tree/main) " +
                "or a full 40-character commit hash." + serverSays,
                repo, file, status);
        }

        if (errorCode == "EntryNotFound" || (status == 404 && errorCode is null && !context.IsListing && file is not null))
        {
            return new HubException(
                HubErrorKind.FileNotFound,
                $"'{file}' does not exist in '{repo}' at revision '{context.Revision}' (HTTP {status}). Check the file name against {repoPage}/tree/{context.Revision}." + serverSays,
                repo, file, status);
        }

        if (status == 401 && tokenSent && (errorMessage == InvalidCredentialsMessage || errorCode is null))
        {
            return new HubException(
                HubErrorKind.InvalidToken,
                $"The hub rejected the access token sent for '{repo}' (HTTP 401): it is mistyped, expired or revoked. " +
                $"Check HF_TOKEN / HubClientOptions.Token / {settings.TokenPath}, or create a new token at {tokenPage}." + serverSays,
                repo, file, status);
        }

        if (status == 401 && !tokenSent)
        {
            return new HubException(
                HubErrorKind.AuthenticationRequired,
                $"The hub refused anonymous access to '{repo}' (HTTP 401). Either the repository id is misspelled (check {repoPage}; ids look like " +
                $"'TIGER-Lab/VLM2Vec-Qwen2VL-2B'), or the repository is private or gated and needs a token. {howToSetToken}" + serverSays,
                repo, file, status);
        }

        if (errorCode == "RepoNotFound" || status == 404 || status == 401)
        {
            var access = tokenSent
                ? "If it is private, make sure the token's account is a member of its organisation and the token may read it."
                : $"If it is private, it needs a token. {howToSetToken}";
            return new HubException(
                HubErrorKind.RepositoryNotFound,
                $"Repository '{repo}' was not found on {settings.EndpointBase} (HTTP {status}). Check the id for typos (it is 'organisation/name', " +
                $"e.g. 'TIGER-Lab/VLM2Vec-Qwen2VL-2B'). {access}" + serverSays,
                repo, file, status);
        }

        if (status == 403)
        {
            return new HubException(
                HubErrorKind.AccessDenied,
                $"The hub denied access to '{repo}'{(file is null ? string.Empty : $" file '{file}'")} (HTTP 403). " +
                (tokenSent
                    ? $"The token lacks permission: a fine-grained token needs read access to this repository (edit it at {tokenPage})."
                    : $"Send a token with read access. {howToSetToken}") + serverSays,
                repo, file, status);
        }

        return new HubException(
            status >= 500 ? HubErrorKind.ServerError : HubErrorKind.UnexpectedResponse,
            $"The hub answered HTTP {status} ({response.ReasonPhrase}) for {response.RequestMessage?.RequestUri} ('{repo}'" +
            (file is null ? ")." : $", '{file}').") + serverSays,
            repo, file, status);
    }

    /// <summary>Whether a status is worth retrying: request time-out, rate limit, or a passing server error.</summary>
    public static bool IsTransient(HttpStatusCode status) => (int)status is 408 or 429 or 500 or 502 or 503 or 504;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
