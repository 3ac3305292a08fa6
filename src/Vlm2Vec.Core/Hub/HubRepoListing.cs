using System.Text.Json;

namespace Vlm2Vec.Hub;

/// <summary>A repository at one commit: what <c>GET /api/models/{repo}/revision/{revision}?blobs=true</c> answers.</summary>
internal sealed class HubRepoListing
{
    public HubRepoListing(string commit, IReadOnlyList<HubRepoFile> files)
    {
        Commit = commit;
        Files = files;
    }

    public string Commit { get; }

    public IReadOnlyList<HubRepoFile> Files { get; }

    /// <summary>Parses the model-info JSON; a missing <c>sha</c> or unsafe file path is an <see cref="HubErrorKind.UnexpectedResponse"/>.</summary>
    public static HubRepoListing Parse(JsonDocument document, string repoId)
    {
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object ||
            !root.TryGetProperty("sha", out var sha) || sha.ValueKind != JsonValueKind.String ||
            !HubNames.IsCommitHash(sha.GetString()!))
        {
            throw Unexpected(repoId, "the repository listing has no 40-character 'sha' commit hash");
        }

        var files = new List<HubRepoFile>();
        if (root.TryGetProperty("siblings", out var siblings) && siblings.ValueKind == JsonValueKind.Array)
        {
            foreach (var sibling in siblings.EnumerateArray())
            {
                if (!sibling.TryGetProperty("rfilename", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    throw Unexpected(repoId, "a 'siblings' entry has no 'rfilename'");
                }

                var path = name.GetString()!;
                if (!HubNames.IsSafeRelativePath(path))
                {
                    throw Unexpected(repoId, $"the listing names an unsafe path '{path}'");
                }

                string? lfsSha256 = null;
                long? lfsSize = null;
                if (sibling.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                {
                    lfsSha256 = GetString(lfs, "sha256");
                    lfsSize = GetInt64(lfs, "size");
                }

                files.Add(new HubRepoFile(path, GetInt64(sibling, "size"), GetString(sibling, "blobId"), lfsSha256, lfsSize));
            }
        }

        return new HubRepoListing(sha.GetString()!, files);
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? GetInt64(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)
            ? number
            : null;

    private static HubException Unexpected(string repoId, string what) =>
        new(HubErrorKind.UnexpectedResponse, $"The hub's answer for '{repoId}' cannot be used: {what}. Is the endpoint a Hugging Face hub?", repoId);
}
