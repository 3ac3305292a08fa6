using System.Security.Cryptography;
using System.Text;

namespace Vlm2Vec.TestSupport.Hub;

/// <summary>A repository the fake hub serves: named revisions pointing at commits, each commit a set of files.</summary>
public sealed class FakeRepo
{
    public FakeRepo(string id)
    {
        Id = id;
    }

    public string Id { get; }

    /// <summary>Branches and tags → commit sha.</summary>
    public Dictionary<string, string> Refs { get; } = new(StringComparer.Ordinal);

    /// <summary>Commit sha → files (repo path → content).</summary>
    public Dictionary<string, SortedDictionary<string, byte[]>> Commits { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, the repository is private: only this token sees it.</summary>
    public string? PrivateToken { get; set; }

    /// <summary>When set, the repository is gated: only these tokens were granted access.</summary>
    public HashSet<string>? GatedGrantedTokens { get; set; }

    public string AddCommit(IReadOnlyDictionary<string, byte[]> files, params string[] refs)
    {
        var sha = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(Id + "|" + Commits.Count + "|" + string.Join(",", files.Keys))));
        Commits[sha] = new SortedDictionary<string, byte[]>(files.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
        foreach (var name in refs)
        {
            Refs[name] = sha;
        }

        return sha;
    }

    public string? ResolveCommit(string revision) =>
        Commits.ContainsKey(revision) ? revision : Refs.TryGetValue(revision, out var sha) ? sha : null;

    /// <summary>Files stored with Git LFS on the fake hub (served through the CDN with a sha256 etag).</summary>
    public static bool IsLfs(string path) => path.EndsWith(".safetensors", StringComparison.Ordinal) || path.EndsWith(".bin", StringComparison.Ordinal);

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    public static string GitBlobSha1(byte[] content)
    {
        var header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
    }

    /// <summary>The etag the hub gives a file: sha256 for LFS files, git blob sha1 otherwise.</summary>
    public static string Etag(string path, byte[] content) => IsLfs(path) ? Sha256(content) : GitBlobSha1(content);
}
