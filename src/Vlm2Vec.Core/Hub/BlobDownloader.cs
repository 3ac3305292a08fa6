using System.Buffers;
using System.Collections.Concurrent;
using System.Net;

namespace Vlm2Vec.Hub;

/// <summary>
/// Fetches one blob into the cache: written to <c>blobs/{etag}.incomplete</c> (held with an exclusive lock, so two
/// processes never write the same partial file), resumed with <c>Range</c> after a cut, restarted when the server
/// ignores <c>Range</c>, checked against the etag's hash and the advertised size, then renamed into place. A blob that
/// fails its check is deleted and fetched once more; a second failure is a <see cref="HubErrorKind.IntegrityCheckFailed"/>.
/// A cancelled or cut transfer keeps its <c>.incomplete</c> file for the next run to resume; nothing that looks complete
/// is ever left unverified.
/// </summary>
internal sealed class BlobDownloader
{
    private const int BufferSize = 256 * 1024;
    private const int SharingViolation = unchecked((int)0x80070020);
    private const int LockViolation = unchecked((int)0x80070021);
    private static readonly TimeSpan LockPollInterval = TimeSpan.FromMilliseconds(250);

    private readonly HubHttp _http;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _blobGates = new(StringComparer.Ordinal);

    public BlobDownloader(HubHttp http)
    {
        _http = http;
    }

    private HubSettings Settings => _http.Settings;

    /// <summary>Fetches the blob unless it is already there; <see langword="true"/> when this call created it.</summary>
    public async Task<bool> DownloadAsync(BlobDownload job, DownloadProgressTracker.FileProgress progress, CancellationToken cancellationToken)
    {
        // Two files of one snapshot may share a blob: one transfer at a time per blob inside this process.
        var gate = _blobGates.GetOrAdd(job.BlobPath, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (File.Exists(job.BlobPath))
            {
                return false;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(job.BlobPath)!);
            var incompletePath = job.BlobPath + ".incomplete";
            var file = await OpenExclusiveAsync(incompletePath, job, cancellationToken).ConfigureAwait(false);
            if (file is null)
            {
                return false; // another process finished it while this one waited
            }

            var deleteIncomplete = false;
            try
            {
                WarnIfLowDiskSpace(job, file.Length);
                using var hasher = BlobHasher.ForEtag(job.Etag, job.Size);
                for (var integrityFailures = 0; ;)
                {
                    var overflow = await FillAsync(file, hasher, job, progress, cancellationToken).ConfigureAwait(false);
                    string? problem = null;
                    if (overflow)
                    {
                        problem = $"the server sent more than the advertised {job.Size} bytes";
                    }
                    else if (hasher is not null && !hasher.Verify(out var actual))
                    {
                        problem = $"{hasher.AlgorithmName} is {actual}, the hub advertises {job.Etag}";
                    }

                    if (problem is null)
                    {
                        break;
                    }

                    integrityFailures++;
                    file.SetLength(0);
                    file.Position = 0;
                    hasher?.Reset();
                    if (integrityFailures >= 2)
                    {
                        deleteIncomplete = true;
                        throw new HubException(
                            HubErrorKind.IntegrityCheckFailed,
                            $"'{job.Context.FileName}' from '{job.Context.RepoId}' failed its integrity check twice ({problem}). The corrupt download " +
                            "was deleted. A proxy or the CDN may be altering the file; try again later or from another network.",
                            job.Context.RepoId, job.Context.FileName);
                    }

                    HubLog.IntegrityRetry(Settings.Logger, job.Context.RepoId, job.Context.FileName ?? job.Etag, problem);
                    progress.Retrying(0);
                }

                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            finally
            {
                await file.DisposeAsync().ConfigureAwait(false);
                if (deleteIncomplete)
                {
                    File.Delete(incompletePath);
                }
            }

            try
            {
                File.Move(incompletePath, job.BlobPath, overwrite: true);
            }
            catch (FileNotFoundException) when (File.Exists(job.BlobPath))
            {
                // Another process took the finished partial file between our unlock and rename, and placed it.
            }

            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Brings the partial file up to the advertised size, resuming from what is on disk. Returns <see langword="true"/>
    /// when the server sent more than the advertised size (an integrity failure).
    /// </summary>
    private async Task<bool> FillAsync(
        FileStream file,
        BlobHasher? hasher,
        BlobDownload job,
        DownloadProgressTracker.FileProgress progress,
        CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var have = file.Length;
            if (have > job.Size)
            {
                file.SetLength(0);
                have = 0;
            }

            if (have > 0 && hasher is not null)
            {
                await HashPrefixAsync(file, hasher, have, buffer, cancellationToken).ConfigureAwait(false);
            }

            file.Position = have;
            if (have > 0)
            {
                HubLog.Resuming(Settings.Logger, job.Context.RepoId, job.Context.FileName ?? job.Etag, have);
            }

            progress.Started(have);
            var attemptsWithoutProgress = 0;
            while (have < job.Size)
            {
                var before = have;
                string? cut = null;
                using (var response = await _http.SendAsync(HttpMethod.Get, job.Source, have, stopAtForeignRedirect: false, job.Context, cancellationToken)
                           .ConfigureAwait(false))
                {
                    if (response.StatusCode == HttpStatusCode.PartialContent)
                    {
                        if (response.Content.Headers.ContentRange?.From != have)
                        {
                            cut = $"the server answered range {response.Content.Headers.ContentRange} instead of bytes={have}-";
                        }
                    }
                    else if (have > 0)
                    {
                        // 200 to a Range request: the body is the whole file (CDNs do this, e.g. when compressing).
                        HubLog.RangeIgnored(Settings.Logger, job.Context.RepoId, job.Context.FileName ?? job.Etag, have);
                        file.SetLength(0);
                        file.Position = 0;
                        hasher?.Reset();
                        have = 0;
                        before = 0;
                        progress.Retrying(0);
                    }

                    if (cut is null)
                    {
                        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        try
                        {
                            while (true)
                            {
                                stall.CancelAfter(Settings.ReadTimeout);
                                var read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), stall.Token).ConfigureAwait(false);
                                if (read == 0)
                                {
                                    break;
                                }

                                var room = job.Size - have;
                                var keep = (int)Math.Min(read, room);
                                await file.WriteAsync(buffer.AsMemory(0, keep), cancellationToken).ConfigureAwait(false);
                                hasher?.Append(buffer.AsSpan(0, keep));
                                have += keep;
                                progress.Advance(keep);
                                if (read > room)
                                {
                                    return true;
                                }
                            }
                        }
                        catch (Exception ex) when (ex is IOException or HttpRequestException ||
                                                   (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                        {
                            cut = ex is OperationCanceledException ? $"no data for {Settings.ReadTimeout.TotalSeconds:0.#} s" : ex.Message;
                        }

                        if (cut is null && have < job.Size)
                        {
                            cut = "the response ended early";
                        }
                    }
                }

                if (have >= job.Size)
                {
                    break;
                }

                attemptsWithoutProgress = have > before ? 0 : attemptsWithoutProgress + 1;
                if (attemptsWithoutProgress > Settings.MaxRetries)
                {
                    throw new HubException(
                        HubErrorKind.NetworkFailure,
                        $"The transfer of '{job.Context.FileName}' from '{job.Context.RepoId}' kept failing at byte {have} of {job.Size} " +
                        $"({cut}). The partial file is kept: run the download again to resume it.",
                        job.Context.RepoId, job.Context.FileName);
                }

                HubLog.TransferCut(Settings.Logger, job.Context.RepoId, job.Context.FileName ?? job.Etag, have, job.Size, cut ?? "unknown");
                progress.Retrying(have);
                if (attemptsWithoutProgress > 0)
                {
                    await Task.Delay(Settings.RetryDelay(attemptsWithoutProgress), cancellationToken).ConfigureAwait(false);
                }
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task HashPrefixAsync(FileStream file, BlobHasher hasher, long length, byte[] buffer, CancellationToken cancellationToken)
    {
        file.Position = 0;
        var remaining = length;
        while (remaining > 0)
        {
            var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(BufferSize, remaining)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"The partial file {file.Name} is shorter than it was a moment ago.");
            }

            hasher.Append(buffer.AsSpan(0, read));
            remaining -= read;
        }
    }

    /// <summary>Opens the partial file with an exclusive lock, waiting while another process holds it; <see langword="null"/> once the blob exists.</summary>
    private async Task<FileStream?> OpenExclusiveAsync(string incompletePath, BlobDownload job, CancellationToken cancellationToken)
    {
        var waitLogged = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (File.Exists(job.BlobPath))
            {
                return null;
            }

            try
            {
                var stream = new FileStream(incompletePath, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate,
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.None,
                    BufferSize = 0,
                });
                if (File.Exists(job.BlobPath))
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                    File.Delete(incompletePath);
                    return null;
                }

                return stream;
            }
            catch (IOException ex) when (IsLockedByAnother(ex))
            {
                if (!waitLogged)
                {
                    HubLog.WaitingForLock(Settings.Logger, job.Context.FileName ?? job.Etag);
                    waitLogged = true;
                }

                await Task.Delay(LockPollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Whether opening failed because another handle holds the lock: a sharing or lock violation on Windows; on Unix,
    /// where .NET emulates <see cref="FileShare.None"/> with <c>flock</c>, the errno EWOULDBLOCK (11 on Linux, 35 on BSD/macOS).
    /// </summary>
    private static bool IsLockedByAnother(IOException ex)
    {
        if (OperatingSystem.IsWindows())
        {
            return ex.HResult is SharingViolation or LockViolation;
        }

        var wouldBlock = OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() || OperatingSystem.IsIOS() ? 35 : 11;
        return ex.HResult == wouldBlock;
    }

    private void WarnIfLowDiskSpace(BlobDownload job, long alreadyThere)
    {
        try
        {
            var folder = Path.GetDirectoryName(job.BlobPath)!;
            var free = new DriveInfo(folder).AvailableFreeSpace;
            var needed = job.Size - alreadyThere;
            if (free < needed)
            {
                HubLog.LowDiskSpace(Settings.Logger, folder, job.Context.FileName ?? job.Etag, free, needed);
            }
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // Free space is advisory; a file system that cannot report it must not stop the download.
        }
    }
}
