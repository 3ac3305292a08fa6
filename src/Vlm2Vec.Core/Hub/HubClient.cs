using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Vlm2Vec.Hub;

/// <summary>
/// Downloads model repositories and files from the Hugging Face hub into the cache Python's <c>huggingface_hub</c>
/// shares (<c>~/.cache/huggingface/hub</c> unless <c>HF_HUB_CACHE</c>/<c>HF_HOME</c> say otherwise): resumable,
/// checksummed, atomic, parallel, with an offline mode. This is the engine of <c>vlm2vec pull</c>.
/// </summary>
/// <example>
/// <code>
/// using var hub = new HubClient();
/// string folder = await hub.DownloadSnapshotAsync("TIGER-Lab/VLM2Vec-Qwen2VL-2B");
/// </code>
/// </example>
public sealed class HubClient : IDisposable
{
    private readonly HubSettings _settings;
    private readonly HubHttp _http;
    private readonly BlobDownloader _blobs;

    /// <summary>Creates a client; unset options follow the <c>HF_*</c> environment variables (see <see cref="HubClientOptions"/>).</summary>
    /// <exception cref="ArgumentException">An option is out of range or the endpoint is not an http(s) address.</exception>
    public HubClient(HubClientOptions? options = null)
        : this(options ?? new HubClientOptions(), HubEnvironment.Process, handler: null)
    {
    }

    internal HubClient(HubClientOptions options, HubEnvironment environment, HttpMessageHandler? handler)
    {
        _settings = HubSettings.Resolve(options, environment);
        _http = new HubHttp(_settings, handler);
        _blobs = new BlobDownloader(_http);
    }

    /// <summary>The hub address requests go to.</summary>
    public Uri Endpoint => _settings.Endpoint;

    /// <summary>The cache folder files are stored in.</summary>
    public string CacheFolder => _settings.CacheFolder;

    /// <summary>Whether the client uses the cache only.</summary>
    public bool IsOffline => _settings.Offline;

    /// <summary>
    /// Downloads the files of a repository that <paramref name="filter"/> selects (default
    /// <see cref="HubFileFilter.Vlm2VecModel"/>) and returns the local snapshot folder
    /// (<c>{cache}/models--org--name/snapshots/{commit}</c>). Files already cached are not fetched again; interrupted
    /// transfers resume. Offline, or when the hub cannot be reached, a complete cached snapshot is returned instead.
    /// </summary>
    /// <param name="repoId">The repository, e.g. <c>TIGER-Lab/VLM2Vec-Qwen2VL-2B</c>.</param>
    /// <param name="revision">A branch, tag or full commit hash; the commit it resolves to is recorded under <c>refs/</c>.</param>
    /// <param name="filter">Which files to take; <see langword="null"/> for <see cref="HubFileFilter.Vlm2VecModel"/>.</param>
    /// <param name="progress">Receives per-file and total byte counts.</param>
    /// <param name="cancellationToken">Stops the download; partial files stay as <c>.incomplete</c> for the next run to resume.</param>
    /// <returns>The absolute path of the snapshot folder.</returns>
    /// <exception cref="HubException">The repository, revision or access is wrong, the network failed after all retries,
    /// a file stayed corrupt, or offline mode found no complete cached snapshot; <see cref="HubException.Kind"/> says which.</exception>
    public async Task<string> DownloadSnapshotAsync(
        string repoId,
        string revision = "main",
        HubFileFilter? filter = null,
        IProgress<HubDownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        HubNames.ValidateRepoId(repoId);
        HubNames.ValidateRevision(revision, repoId);
        filter ??= HubFileFilter.Vlm2VecModel;
        var cache = new HubRepoCache(_settings.CacheFolder, repoId, _settings.UseSymlinks, _settings.Logger);
        var tracker = new DownloadProgressTracker(repoId, progress);

        if (_settings.Offline)
        {
            return CachedSnapshotOrThrow(cache, revision, filter, tracker);
        }

        // A commit never changes: when its listing is cached and every selected file is there, no request is needed.
        IReadOnlyList<HubRepoFile> files;
        string commit;
        if (HubNames.IsCommitHash(revision) && cache.ReadTree(revision) is { } cachedTree)
        {
            commit = revision;
            files = cachedTree;
        }
        else
        {
            try
            {
                var listing = await GetListingAsync(repoId, revision, cancellationToken).ConfigureAwait(false);
                commit = listing.Commit;
                files = listing.Files;
                cache.WriteRef(revision, commit);
                cache.WriteTree(commit, files);
            }
            catch (HubException ex) when (ex.Kind is HubErrorKind.NetworkFailure or HubErrorKind.ServerError)
            {
                if (TryCachedSnapshot(cache, revision, filter, out var folder, out _))
                {
                    HubLog.UsingCachedSnapshot(_settings.Logger, repoId, Path.GetFileName(folder), ex.Message);
                    tracker.ReportCompleted();
                    return folder;
                }

                throw;
            }
        }

        var selected = filter.Select(files, f => f.Path);
        selected.Sort((a, b) => (b.ContentSize ?? 0).CompareTo(a.ContentSize ?? 0)); // large files first keeps the parallel slots busy
        long totalBytes = 0;
        foreach (var file in selected)
        {
            totalBytes += file.ContentSize ?? 0;
        }

        tracker.SetTotals(selected.Count, totalBytes);
        var snapshotFolder = cache.SnapshotFolder(commit);
        Directory.CreateDirectory(snapshotFolder);
        if (selected.Count == 0)
        {
            HubLog.NothingSelected(_settings.Logger, repoId, commit);
        }

        await Parallel.ForEachAsync(
                selected,
                new ParallelOptions { MaxDegreeOfParallelism = _settings.MaxParallelDownloads, CancellationToken = cancellationToken },
                async (file, token) => await EnsureSnapshotFileAsync(cache, revision, commit, file, tracker, token).ConfigureAwait(false))
            .ConfigureAwait(false);

        tracker.ReportCompleted();
        return snapshotFolder;
    }

    /// <summary>
    /// Downloads one file of a repository (whatever its name; no filter applies) and returns its path inside the snapshot
    /// folder. A cached copy is returned without a transfer; offline, only the cache is used.
    /// </summary>
    /// <param name="repoId">The repository, e.g. <c>Qwen/Qwen2-VL-2B-Instruct</c>.</param>
    /// <param name="fileName">The path inside the repository, with <c>/</c> separators, e.g. <c>config.json</c>.</param>
    /// <param name="revision">A branch, tag or full commit hash.</param>
    /// <param name="progress">Receives the file's byte counts.</param>
    /// <param name="cancellationToken">Stops the download; a partial file stays as <c>.incomplete</c> for the next run.</param>
    /// <returns>The absolute path of the file in <c>snapshots/{commit}/</c>.</returns>
    /// <exception cref="HubException">See <see cref="DownloadSnapshotAsync"/>; <see cref="HubErrorKind.FileNotFound"/> for a missing file.</exception>
    public async Task<string> DownloadFileAsync(
        string repoId,
        string fileName,
        string revision = "main",
        IProgress<HubDownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        HubNames.ValidateRepoId(repoId);
        HubNames.ValidateRevision(revision, repoId);
        ArgumentNullException.ThrowIfNull(fileName);
        var path = fileName.Replace('\\', '/');
        if (!HubNames.IsSafeRelativePath(path))
        {
            throw new ArgumentException($"'{fileName}' is not a relative path inside a repository (use '/' separators, no '..').", nameof(fileName));
        }

        var cache = new HubRepoCache(_settings.CacheFolder, repoId, _settings.UseSymlinks, _settings.Logger);
        var tracker = new DownloadProgressTracker(repoId, progress);
        if (HubNames.IsCommitHash(revision) && CachedPointer(cache, revision, path, tracker) is { } pinned)
        {
            return pinned;
        }

        if (_settings.Offline)
        {
            return CachedFileOrThrow(cache, revision, path, tracker, reason: null);
        }

        var context = new HubRequestContext(repoId, revision, path, IsListing: false);
        HubFileMetadata metadata;
        try
        {
            metadata = await GetFileMetadataAsync(ResolveUri(repoId, revision, path), context, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException ex) when (ex.Kind is HubErrorKind.NetworkFailure or HubErrorKind.ServerError)
        {
            return CachedFileOrThrow(cache, revision, path, tracker, ex);
        }

        cache.WriteRef(revision, metadata.Commit);
        tracker.SetTotals(1, metadata.Size);
        var file = new HubRepoFile(path, metadata.Size, metadata.Etag, null, null);
        return await EnsureFileAsync(cache, metadata.Commit, file, metadata.Etag, metadata.Size, metadata.DownloadUri, context, tracker, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Releases the HTTP connections.</summary>
    public void Dispose() => _http.Dispose();

    private async Task EnsureSnapshotFileAsync(
        HubRepoCache cache,
        string revision,
        string commit,
        HubRepoFile file,
        DownloadProgressTracker tracker,
        CancellationToken cancellationToken)
    {
        var context = new HubRequestContext(cache.RepoId, revision, file.Path, IsListing: false);
        var resolve = ResolveUri(cache.RepoId, commit, file.Path);
        if (CachedPointer(cache, commit, file.Path, tracker, file.ContentSize) is not null)
        {
            return;
        }

        if (file.HasDownloadMetadata)
        {
            await EnsureFileAsync(cache, commit, file, file.Etag!, file.ContentSize!.Value, resolve, context, tracker, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The listing did not carry sizes and hashes (an older or partial hub): ask for this file's headers.
        var metadata = await GetFileMetadataAsync(resolve, context, cancellationToken).ConfigureAwait(false);
        await EnsureFileAsync(cache, commit, file, metadata.Etag, metadata.Size, metadata.DownloadUri, context, tracker, cancellationToken).ConfigureAwait(false);
    }

    private async Task<string> EnsureFileAsync(
        HubRepoCache cache,
        string commit,
        HubRepoFile file,
        string etag,
        long size,
        Uri source,
        HubRequestContext context,
        DownloadProgressTracker tracker,
        CancellationToken cancellationToken)
    {
        var pointer = cache.PointerPath(commit, file.Path);
        var fileProgress = tracker.StartFile(file.Path, size);
        if (HubRepoCache.PointerExists(pointer))
        {
            fileProgress.Cached();
            return pointer;
        }

        var blob = cache.BlobPath(etag);
        var newBlob = false;
        if (!File.Exists(blob))
        {
            newBlob = await _blobs.DownloadAsync(new BlobDownload(source, blob, etag, size, context), fileProgress, cancellationToken).ConfigureAwait(false);
        }

        cache.LinkPointer(blob, pointer, newBlob);
        if (newBlob)
        {
            fileProgress.Completed();
        }
        else
        {
            fileProgress.Cached();
        }

        return pointer;
    }

    private async Task<HubRepoListing> GetListingAsync(string repoId, string revision, CancellationToken cancellationToken)
    {
        var uri = new Uri($"{_settings.EndpointBase}/api/models/{repoId}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        var context = new HubRequestContext(repoId, revision, null, IsListing: true);
        using var response = await _http.SendAsync(HttpMethod.Get, uri, 0, stopAtForeignRedirect: false, context, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            return HubRepoListing.Parse(document, repoId);
        }
        catch (JsonException ex)
        {
            throw new HubException(
                HubErrorKind.UnexpectedResponse,
                $"The hub's listing of '{repoId}' at '{revision}' is not valid JSON ({ex.Message}). Is {_settings.EndpointBase} a Hugging Face hub?",
                repoId, null, (int)response.StatusCode, ex);
        }
        catch (IOException ex)
        {
            throw new HubException(
                HubErrorKind.NetworkFailure,
                $"The hub's listing of '{repoId}' at '{revision}' was cut off ({ex.Message}). Try again.",
                repoId, null, (int)response.StatusCode, ex);
        }
    }

    /// <summary>A HEAD on the resolve address (as <c>get_hf_file_metadata</c>): commit, etag, size, and the CDN address.</summary>
    private async Task<HubFileMetadata> GetFileMetadataAsync(Uri resolve, HubRequestContext context, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(HttpMethod.Head, resolve, 0, stopAtForeignRedirect: true, context, cancellationToken).ConfigureAwait(false);
        var isRedirect = (int)response.StatusCode is >= 300 and < 400;
        var commit = Header(response.Headers, "X-Repo-Commit");
        var etag = HubNames.NormalizeEtag(Header(response.Headers, "X-Linked-Etag") ?? Header(response.Headers, "ETag"));
        var sizeText = Header(response.Headers, "X-Linked-Size");
        long? size = sizeText is not null && long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var linked)
            ? linked
            : isRedirect ? null : response.Content.Headers.ContentLength;
        var location = isRedirect && response.Headers.Location is { } redirect
            ? new Uri(response.RequestMessage!.RequestUri!, redirect)
            : response.RequestMessage!.RequestUri!;

        string? missing = commit is null || !HubNames.IsCommitHash(commit) ? "X-Repo-Commit"
            : etag is null ? "ETag"
            : size is null ? "X-Linked-Size / Content-Length"
            : null;
        if (missing is not null)
        {
            throw new HubException(
                HubErrorKind.UnexpectedResponse,
                $"The answer for '{context.FileName}' in '{context.RepoId}' lacks the {missing} header. A proxy may be stripping headers, " +
                $"or {_settings.EndpointBase} is not a Hugging Face hub.",
                context.RepoId, context.FileName, (int)response.StatusCode);
        }

        return new HubFileMetadata(commit!, etag!, size!.Value, location);
    }

    private Uri ResolveUri(string repoId, string revision, string path) =>
        new($"{_settings.EndpointBase}/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{HubNames.EscapePath(path)}");

    private static string? CachedPointer(HubRepoCache cache, string commit, string path, DownloadProgressTracker tracker, long? size = null)
    {
        var pointer = cache.PointerPath(commit, path);
        if (!HubRepoCache.PointerExists(pointer))
        {
            return null;
        }

        var length = size ?? HubRepoCache.ContentLength(pointer);
        tracker.StartFile(path, length).Cached();
        return pointer;
    }

    private string CachedFileOrThrow(HubRepoCache cache, string revision, string path, DownloadProgressTracker tracker, HubException? reason)
    {
        var commit = cache.ResolveCachedCommit(revision);
        if (commit is not null)
        {
            var pointer = cache.PointerPath(commit, path);
            if (HubRepoCache.PointerExists(pointer))
            {
                tracker.SetTotals(1, HubRepoCache.ContentLength(pointer));
                CachedPointer(cache, commit, path, tracker);
                return pointer;
            }
        }

        if (reason is not null)
        {
            throw reason;
        }

        throw new HubException(
            HubErrorKind.OfflineCacheMiss,
            $"Offline mode is on (HF_HUB_OFFLINE or HubClientOptions.Offline) and '{path}' of '{cache.RepoId}' at revision '{revision}' is not in the cache " +
            $"({_settings.CacheFolder}). Download it once with network access (vlm2vec pull {cache.RepoId}), or point HF_HUB_CACHE at a cache that holds it.",
            cache.RepoId, path);
    }

    private string CachedSnapshotOrThrow(HubRepoCache cache, string revision, HubFileFilter filter, DownloadProgressTracker tracker)
    {
        if (TryCachedSnapshot(cache, revision, filter, out var folder, out var missing))
        {
            tracker.ReportCompleted();
            return folder;
        }

        var what = missing.Count == 0
            ? $"no snapshot of '{cache.RepoId}' at revision '{revision}' is in the cache ({_settings.CacheFolder})"
            : $"the cached snapshot of '{cache.RepoId}' at revision '{revision}' ({folder}) is incomplete: {missing.Count} file(s) missing " +
              $"({string.Join(", ", missing.Take(3))}{(missing.Count > 3 ? ", …" : string.Empty)})";
        throw new HubException(
            HubErrorKind.OfflineCacheMiss,
            $"Offline mode is on (HF_HUB_OFFLINE or HubClientOptions.Offline) and {what}. Download it once with network access " +
            $"(vlm2vec pull {cache.RepoId}), or point HF_HUB_CACHE at a cache that holds it.",
            cache.RepoId);
    }

    /// <summary>
    /// The cached snapshot for a revision, if complete: when the commit's listing is cached every selected file must be
    /// there; without a listing (a cache Python filled before tree listings existed) the folder is trusted, as Python does.
    /// </summary>
    private static bool TryCachedSnapshot(HubRepoCache cache, string revision, HubFileFilter filter, out string folder, out List<string> missing)
    {
        missing = [];
        folder = string.Empty;
        var commit = cache.ResolveCachedCommit(revision);
        if (commit is null)
        {
            return false;
        }

        folder = cache.SnapshotFolder(commit);
        if (!Directory.Exists(folder))
        {
            return false;
        }

        if (cache.ReadTree(commit) is { } tree)
        {
            foreach (var file in filter.Select(tree, f => f.Path))
            {
                if (!HubRepoCache.PointerExists(cache.PointerPath(commit, file.Path)))
                {
                    missing.Add(file.Path);
                }
            }
        }

        return missing.Count == 0;
    }

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
