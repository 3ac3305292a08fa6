using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Hub;

/// <summary>
/// One repository's folder in the hub cache, in the layout Python's <c>huggingface_hub</c> reads and writes:
/// <code>
/// models--org--name/
///   blobs/{etag}                    file contents, named by sha256 (LFS) or git blob sha1
///   blobs/{etag}.incomplete         a transfer in progress (resumable)
///   snapshots/{commit}/{path}       relative symlinks to ../../blobs/{etag} (copies where symlinks fail)
///   refs/{revision}                 the commit a branch or tag resolved to
///   trees/{commit}.json             the commit's file listing (lets offline mode tell a complete snapshot)
/// </code>
/// </summary>
internal sealed class HubRepoCache
{
    private const int TreeFormatVersion = 1;

    private readonly bool _useSymlinks;
    private readonly ILogger _logger;

    public HubRepoCache(string cacheFolder, string repoId, bool useSymlinks, ILogger logger)
    {
        RepoId = repoId;
        StorageFolder = Path.Combine(cacheFolder, HubNames.RepoFolderName(repoId));
        _useSymlinks = useSymlinks;
        _logger = logger;
    }

    public string RepoId { get; }

    public string StorageFolder { get; }

    public string BlobsFolder => Path.Combine(StorageFolder, "blobs");

    public string SnapshotFolder(string commit) => Path.Combine(StorageFolder, "snapshots", commit);

    public string BlobPath(string etag)
    {
        if (!HubNames.IsSafeEtag(etag))
        {
            throw new HubException(
                HubErrorKind.UnexpectedResponse,
                $"The hub gave '{RepoId}' a file etag '{etag}' that cannot name a cache file. Is the endpoint a Hugging Face hub?",
                RepoId);
        }

        return Path.Combine(BlobsFolder, etag);
    }

    public string PointerPath(string commit, string repoPath) =>
        Path.Combine([SnapshotFolder(commit), .. repoPath.Split('/')]);

    /// <summary>Whether a snapshot entry exists and (for a symlink) its blob too.</summary>
    public static bool PointerExists(string pointerPath)
    {
        var info = new FileInfo(pointerPath);
        if (info.LinkTarget is null)
        {
            return info.Exists;
        }

        return info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true };
    }

    /// <summary>The size of the content a snapshot entry shows (a symlink's target, not the link itself).</summary>
    public static long ContentLength(string pointerPath)
    {
        var info = new FileInfo(pointerPath);
        return info.LinkTarget is null ? info.Length : ((FileInfo)info.ResolveLinkTarget(returnFinalTarget: true)!).Length;
    }

    /// <summary>The commit a revision resolves to in the cache: the revision itself when it is a commit, else <c>refs/{revision}</c>.</summary>
    public string? ResolveCachedCommit(string revision)
    {
        if (HubNames.IsCommitHash(revision))
        {
            return revision;
        }

        var refPath = RefPath(revision);
        try
        {
            if (!File.Exists(refPath))
            {
                return null;
            }

            var commit = File.ReadAllText(refPath).Trim();
            return HubNames.IsCommitHash(commit) ? commit : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Records that <paramref name="revision"/> resolved to <paramref name="commit"/> (nothing for a commit revision).</summary>
    public void WriteRef(string revision, string commit)
    {
        if (revision == commit)
        {
            return;
        }

        var refPath = RefPath(revision);
        try
        {
            if (File.Exists(refPath) && File.ReadAllText(refPath).Trim() == commit)
            {
                return;
            }

            WriteAtomically(refPath, Encoding.UTF8.GetBytes(commit));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only cache must not fail a download whose files are already there (Python does the same).
            HubLog.CacheWriteFailed(_logger, refPath, ex);
        }
    }

    /// <summary>Writes <c>trees/{commit}.json</c> in Python's tree-cache format (format_version 1).</summary>
    public void WriteTree(string commit, IReadOnlyList<HubRepoFile> files)
    {
        var path = TreePath(commit);
        if (File.Exists(path))
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("format_version", TreeFormatVersion);
            writer.WriteStartObject("files");
            foreach (var file in files)
            {
                if (file.Size is null || file.BlobId is null)
                {
                    return; // an incomplete listing is not worth caching: Python would reject it
                }

                writer.WriteStartObject(file.Path);
                writer.WriteNumber("size", file.Size.Value);
                writer.WriteString("blob_id", file.BlobId);
                if (file.LfsSha256 is not null)
                {
                    writer.WriteString("lfs_sha256", file.LfsSha256);
                    writer.WriteNumber("lfs_size", file.LfsSize ?? file.Size.Value);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        try
        {
            WriteAtomically(path, buffer.ToArray());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            HubLog.CacheWriteFailed(_logger, path, ex);
        }
    }

    /// <summary>Reads <c>trees/{commit}.json</c>; <see langword="null"/> when absent, unreadable or of another format.</summary>
    public IReadOnlyList<HubRepoFile>? ReadTree(string commit)
    {
        var path = TreePath(commit);
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (!root.TryGetProperty("format_version", out var version) || version.ValueKind != JsonValueKind.Number ||
                version.GetInt32() != TreeFormatVersion || !root.TryGetProperty("files", out var filesElement) ||
                filesElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var files = new List<HubRepoFile>();
            foreach (var entry in filesElement.EnumerateObject())
            {
                if (!HubNames.IsSafeRelativePath(entry.Name))
                {
                    return null;
                }

                var value = entry.Value;
                files.Add(new HubRepoFile(
                    entry.Name,
                    value.TryGetProperty("size", out var size) && size.TryGetInt64(out var s) ? s : null,
                    value.TryGetProperty("blob_id", out var blob) && blob.ValueKind == JsonValueKind.String ? blob.GetString() : null,
                    value.TryGetProperty("lfs_sha256", out var sha) && sha.ValueKind == JsonValueKind.String ? sha.GetString() : null,
                    value.TryGetProperty("lfs_size", out var lfsSize) && lfsSize.TryGetInt64(out var ls) ? ls : null));
            }

            return files;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Makes <paramref name="pointerPath"/> show <paramref name="blobPath"/>'s content: a relative symlink, or where
    /// symlinks cannot be made (or are disabled) a copy; a blob this download just made is moved instead of copied,
    /// as Python does, so that no file is stored twice.
    /// </summary>
    public void LinkPointer(string blobPath, string pointerPath, bool newBlob)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(pointerPath)!);
        DeleteIfPresent(pointerPath); // a dangling symlink or a stale copy

        if (_useSymlinks)
        {
            var target = Path.GetRelativePath(Path.GetDirectoryName(pointerPath)!, blobPath);
            try
            {
                File.CreateSymbolicLink(pointerPath, target);
                return;
            }
            catch (IOException) when (PointerExists(pointerPath))
            {
                return; // made at the same moment by a concurrent download of the same file
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                HubLog.SymlinkFailed(_logger, pointerPath, ex);
            }
        }

        var temporary = pointerPath + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        if (newBlob)
        {
            File.Move(blobPath, temporary);
        }
        else
        {
            File.Copy(blobPath, temporary);
        }

        File.Move(temporary, pointerPath, overwrite: true);
    }

    private string RefPath(string revision) => Path.Combine([StorageFolder, "refs", .. revision.Split('/')]);

    private string TreePath(string commit) => Path.Combine(StorageFolder, "trees", commit + ".json");

    private static void WriteAtomically(string path, byte[] content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    private static void DeleteIfPresent(string path)
    {
        var info = new FileInfo(path);
        if (info.Exists || info.LinkTarget is not null)
        {
            info.Delete();
        }
    }
}
