using System.Text.RegularExpressions;

namespace Vlm2Vec.Hub;

/// <summary>Validation of repository ids, revisions, repo paths and etags, and the URL and folder names built from them.</summary>
internal static partial class HubNames
{
    /// <summary>Whether <paramref name="revision"/> is a full commit hash (an immutable revision).</summary>
    public static bool IsCommitHash(string revision) => CommitHashRegex().IsMatch(revision);

    /// <summary>Checks a repository id the way <c>huggingface_hub.validate_repo_id</c> does.</summary>
    public static void ValidateRepoId(string repoId)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        if (!RepoIdRegex().IsMatch(repoId) || repoId.Contains("--", StringComparison.Ordinal) ||
            repoId.Contains("..", StringComparison.Ordinal) || repoId.EndsWith(".git", StringComparison.Ordinal))
        {
            throw new HubException(
                HubErrorKind.InvalidRepositoryId,
                $"'{repoId}' is not a valid repository id. Use 'organisation/name' (or a bare 'name'), e.g. 'TIGER-Lab/VLM2Vec-Qwen2VL-2B': " +
                "letters, digits, '-', '_' and '.', at most 96 characters per part, no '--' or '..', not ending in '.git'.",
                repoId);
        }
    }

    /// <summary>Checks a branch, tag or commit name: not empty, no <c>..</c> or empty path segment, no backslash.</summary>
    public static void ValidateRevision(string revision, string repoId)
    {
        ArgumentNullException.ThrowIfNull(revision);
        if (revision.Length == 0 || revision.Contains('\\', StringComparison.Ordinal) || !IsSafeRelativePath(revision))
        {
            throw new HubException(
                HubErrorKind.RevisionNotFound,
                $"'{revision}' is not a usable revision for '{repoId}': give a branch or tag name (e.g. 'main', 'v1.0', 'refs/pr/1') " +
                "or a full 40-character commit hash.",
                repoId);
        }
    }

    /// <summary>Whether a repo path is relative, uses <c>/</c>, and has no empty, <c>.</c> or <c>..</c> segment.</summary>
    public static bool IsSafeRelativePath(string path)
    {
        if (path.Length == 0 || path[0] == '/' || path.Contains('\\', StringComparison.Ordinal) || path.Contains('\0', StringComparison.Ordinal) ||
            path.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == "..")
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether an etag can name a blob file: hex or url-safe characters only.</summary>
    public static bool IsSafeEtag(string etag) => SafeEtagRegex().IsMatch(etag);

    /// <summary>The cache folder name of a model repository: <c>models--org--name</c>.</summary>
    public static string RepoFolderName(string repoId) => "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>A repo path with every segment percent-encoded, <c>/</c> kept (Python <c>quote(filename)</c>).</summary>
    public static string EscapePath(string path)
    {
        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            segments[i] = Uri.EscapeDataString(segments[i]);
        }

        return string.Join('/', segments);
    }

    /// <summary>A header etag with its weak prefix and quotes removed (<c>_normalize_etag</c>).</summary>
    public static string? NormalizeEtag(string? etag)
    {
        if (etag is null)
        {
            return null;
        }

        var value = etag.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        return value.Trim('"');
    }

    [GeneratedRegex("^[0-9a-f]{40}$", RegexOptions.CultureInvariant)]
    private static partial Regex CommitHashRegex();

    [GeneratedRegex(@"^([A-Za-z0-9_.\-]{1,96}/)?[A-Za-z0-9_.\-]{1,96}$", RegexOptions.CultureInvariant)]
    private static partial Regex RepoIdRegex();

    [GeneratedRegex(@"^[A-Za-z0-9_\-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex SafeEtagRegex();
}
