using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Vlm2Vec.TestSupport.Hub;

/// <summary>
/// A loopback Hugging Face hub: <c>/api/models/{repo}/revision/{rev}</c> listings, <c>/{repo}/resolve/{rev}/{path}</c>
/// with the hub's headers (X-Repo-Commit, ETag / X-Linked-Etag, X-Linked-Size, X-Error-Code), LFS files redirected to a
/// second listener on another port (the "CDN"), Range support, and injectable faults.
/// </summary>
public sealed class FakeHubServer : IDisposable
{
    private readonly HttpListener _hub;
    private readonly HttpListener _cdn;
    private readonly CancellationTokenSource _stop = new();
    private bool _disposed;
    private int _listingFailures;
    private int _bodiesInFlight;
    private int _peakBodiesInFlight;

    public FakeHubServer()
    {
        (_hub, HubPort) = StartListener();
        (_cdn, CdnPort) = StartListener();
        _ = AcceptLoopAsync(_hub, cdn: false);
        _ = AcceptLoopAsync(_cdn, cdn: true);
    }

    public int HubPort { get; }

    public int CdnPort { get; }

    public string Endpoint => $"http://127.0.0.1:{HubPort}";

    public ConcurrentDictionary<string, FakeRepo> Repos { get; } = new(StringComparer.Ordinal);

    /// <summary>Tokens the hub recognises; any other bearer token gets 401 "Invalid credentials".</summary>
    public HashSet<string> ValidTokens { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public ConcurrentDictionary<string, FileFault> Faults { get; } = new(StringComparer.Ordinal);

    /// <summary>Answer Range requests with 200 and the whole file (as some CDNs do).</summary>
    public bool IgnoreRange { get; set; }

    public int ChunkSize { get; set; } = 16 * 1024;

    /// <summary>Pause between body chunks (makes transfers slow enough to overlap or cancel).</summary>
    public TimeSpan ChunkDelay { get; set; }

    /// <summary>The next this-many listing requests answer 503.</summary>
    public int ListingFailures { get => _listingFailures; set => _listingFailures = value; }

    /// <summary>List only file names (no size, blobId or lfs), as a hub without <c>?blobs=true</c> support would.</summary>
    public bool ListingWithoutMetadata { get; set; }

    public int PeakBodiesInFlight => Volatile.Read(ref _peakBodiesInFlight);

    public FakeRepo AddRepo(string id)
    {
        var repo = new FakeRepo(id);
        Repos[id] = repo;
        return repo;
    }

    /// <summary>Requests that fetched a body of <paramref name="repoPath"/> (GET, hub or CDN).</summary>
    public List<RecordedRequest> BodyRequests(string repoPath) =>
        Requests.Where(r => r.Method == "GET" && r.RepoPath == repoPath && (r.Cdn || !FakeRepo.IsLfs(repoPath))).ToList();

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stop.Cancel();
        _hub.Close();
        _cdn.Close();
        _stop.Dispose();
    }

    private static (HttpListener Listener, int Port) StartListener()
    {
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return (listener, port);
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }
    }

    private async Task AcceptLoopAsync(HttpListener listener, bool cdn)
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context, cdn));
        }
    }

    private async Task HandleAsync(HttpListenerContext context, bool cdn)
    {
        var request = context.Request;
        var response = context.Response;
        var record = new RecordedRequest(cdn, request.HttpMethod, request.RawUrl ?? string.Empty, request.Headers["Range"], request.Headers["Authorization"]);
        Requests.Enqueue(record);
        try
        {
            var rawPath = request.RawUrl!.Split('?')[0];
            var segments = rawPath.TrimStart('/').Split('/');
            var token = request.Headers["Authorization"] is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : null;
            if (cdn)
            {
                var sha = segments.Length == 2 && segments[0] == "cdn" ? segments[1] : null;
                var found = sha is null ? null : FindBySha(sha);
                if (found is null)
                {
                    Finish(context, record, 404);
                    return;
                }

                record.RepoPath = found.Value.Path;
                await ServeContentAsync(context, record, found.Value.Content).ConfigureAwait(false);
                return;
            }

            if (token is not null && !ValidTokens.Contains(token))
            {
                response.AddHeader("X-Error-Message", "Invalid credentials in Authorization header");
                Finish(context, record, 401);
                return;
            }

            if (segments.Length >= 6 && segments[0] == "api" && segments[1] == "models" && segments[4] == "revision")
            {
                if (Interlocked.Decrement(ref _listingFailures) >= 0)
                {
                    Finish(context, record, 503);
                    return;
                }

                var repo = CheckAccess(context, record, segments[2] + "/" + segments[3], token);
                if (repo is null)
                {
                    return;
                }

                var revision = Uri.UnescapeDataString(string.Join('/', segments[5..]));
                var commit = repo.ResolveCommit(revision);
                if (commit is null)
                {
                    response.AddHeader("X-Error-Code", "RevisionNotFound");
                    Finish(context, record, 404);
                    return;
                }

                var body = Listing(repo, commit, ListingWithoutMetadata);
                response.ContentType = "application/json";
                response.ContentLength64 = body.Length;
                await response.OutputStream.WriteAsync(body).ConfigureAwait(false);
                Finish(context, record, 200);
                return;
            }

            if (segments.Length >= 5 && segments[2] == "resolve")
            {
                var repo = CheckAccess(context, record, segments[0] + "/" + segments[1], token);
                if (repo is null)
                {
                    return;
                }

                var revision = Uri.UnescapeDataString(segments[3]);
                var repoPath = string.Join('/', segments[4..].Select(Uri.UnescapeDataString));
                record.RepoPath = repoPath;
                var commit = repo.ResolveCommit(revision);
                if (commit is null)
                {
                    response.AddHeader("X-Error-Code", "RevisionNotFound");
                    Finish(context, record, 404);
                    return;
                }

                response.AddHeader("X-Repo-Commit", commit);
                if (!repo.Commits[commit].TryGetValue(repoPath, out var content))
                {
                    response.AddHeader("X-Error-Code", "EntryNotFound");
                    Finish(context, record, 404);
                    return;
                }

                if (FakeRepo.IsLfs(repoPath))
                {
                    var sha = FakeRepo.Sha256(content);
                    response.AddHeader("X-Linked-Etag", $"\"{sha}\"");
                    response.AddHeader("X-Linked-Size", content.Length.ToString(CultureInfo.InvariantCulture));
                    response.AddHeader("ETag", $"\"{FakeRepo.GitBlobSha1(Encoding.ASCII.GetBytes("lfs pointer " + sha))}\"");
                    response.RedirectLocation = $"http://127.0.0.1:{CdnPort}/cdn/{sha}?expires=1&signature=abc";
                    Finish(context, record, 302);
                    return;
                }

                response.AddHeader("ETag", $"\"{FakeRepo.GitBlobSha1(content)}\"");
                await ServeContentAsync(context, record, content).ConfigureAwait(false);
                return;
            }

            Finish(context, record, 404);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away (a cancelled or cut transfer): nothing to answer.
            record.Status = -1;
        }
    }

    private FakeRepo? CheckAccess(HttpListenerContext context, RecordedRequest record, string repoId, string? token)
    {
        var response = context.Response;
        if (!Repos.TryGetValue(repoId, out var repo) || (repo.PrivateToken is not null && repo.PrivateToken != token))
        {
            // Like the hub: anonymous requests cannot tell a missing repository from a private one.
            response.AddHeader("X-Error-Code", "RepoNotFound");
            response.AddHeader("X-Error-Message", "Repository not found");
            Finish(context, record, token is null ? 401 : 404);
            return null;
        }

        if (repo.GatedGrantedTokens is not null && (token is null || !repo.GatedGrantedTokens.Contains(token)))
        {
            response.AddHeader("X-Error-Code", "GatedRepo");
            response.AddHeader("X-Error-Message", "Access to model " + repoId + " is restricted.");
            Finish(context, record, token is null ? 401 : 403);
            return null;
        }

        return repo;
    }

    private async Task ServeContentAsync(HttpListenerContext context, RecordedRequest record, byte[] content)
    {
        var repoPath = record.RepoPath!;
        var request = context.Request;
        var response = context.Response;
        var fault = Faults.GetValueOrDefault(repoPath);
        if (request.HttpMethod == "GET" && fault is not null && fault.TakeCorrupt())
        {
            content = (byte[])content.Clone();
            content[content.Length / 2] ^= 0x5A;
        }

        long start = 0;
        var status = 200;
        var range = request.Headers["Range"];
        if (range is not null && !IgnoreRange && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], CultureInfo.InvariantCulture);
            if (start >= content.Length)
            {
                response.AddHeader("Content-Range", $"bytes */{content.Length}");
                Finish(context, record, 416);
                return;
            }

            status = 206;
            response.AddHeader("Content-Range", $"bytes {start}-{content.Length - 1}/{content.Length}");
        }

        response.StatusCode = status;
        response.AddHeader("Accept-Ranges", "bytes");
        response.ContentLength64 = content.Length - start;
        if (request.HttpMethod == "HEAD")
        {
            Finish(context, record, status);
            return;
        }

        var interrupt = request.HttpMethod == "GET" && fault is { InterruptAfterBytes: >= 0 } && fault.TakeInterrupt() ? fault.InterruptAfterBytes : -1;
        var stall = request.HttpMethod == "GET" && fault is { StallAfterBytes: >= 0 } && fault.TakeStall() ? fault.StallAfterBytes : -1;
        var inFlight = Interlocked.Increment(ref _bodiesInFlight);
        var counted = true;
        UpdatePeak(inFlight);
        try
        {
            var sent = 0L;
            var remaining = content.AsMemory((int)start);
            while (!remaining.IsEmpty)
            {
                var chunk = remaining[..Math.Min(ChunkSize, remaining.Length)];
                var cutAt = interrupt >= 0 ? interrupt : stall;
                if (cutAt >= 0 && sent + chunk.Length > cutAt)
                {
                    chunk = chunk[..(int)(cutAt - sent)];
                    await response.OutputStream.WriteAsync(chunk).ConfigureAwait(false);
                    await response.OutputStream.FlushAsync().ConfigureAwait(false);
                    record.Status = status;
                    if (stall >= 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(5), _stop.Token).ConfigureAwait(false);
                    }

                    response.Abort();
                    return;
                }

                if (chunk.Length == remaining.Length)
                {
                    // Leave the in-flight count before the last bytes: the client cannot start its next transfer
                    // before it has them, so the peak never counts a transfer that already ended on the client.
                    Interlocked.Decrement(ref _bodiesInFlight);
                    counted = false;
                }

                await response.OutputStream.WriteAsync(chunk).ConfigureAwait(false);
                await response.OutputStream.FlushAsync().ConfigureAwait(false);
                sent += chunk.Length;
                remaining = remaining[chunk.Length..];
                if (ChunkDelay > TimeSpan.Zero)
                {
                    await Task.Delay(ChunkDelay).ConfigureAwait(false);
                }
            }

            record.Status = status;
            response.Close();
        }
        catch (OperationCanceledException)
        {
            response.Abort();
        }
        finally
        {
            if (counted)
            {
                Interlocked.Decrement(ref _bodiesInFlight);
            }
        }
    }

    private void UpdatePeak(int value)
    {
        int peak;
        while (value > (peak = Volatile.Read(ref _peakBodiesInFlight)) &&
               Interlocked.CompareExchange(ref _peakBodiesInFlight, value, peak) != peak)
        {
        }
    }

    private static void Finish(HttpListenerContext context, RecordedRequest record, int status)
    {
        context.Response.StatusCode = status;
        record.Status = status;
        context.Response.Close();
    }

    private (string Path, byte[] Content)? FindBySha(string sha)
    {
        foreach (var repo in Repos.Values)
        {
            foreach (var files in repo.Commits.Values)
            {
                foreach (var (path, content) in files)
                {
                    if (FakeRepo.IsLfs(path) && FakeRepo.Sha256(content) == sha)
                    {
                        return (path, content);
                    }
                }
            }
        }

        return null;
    }

    private static byte[] Listing(FakeRepo repo, string commit, bool namesOnly)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", repo.Id);
            writer.WriteString("sha", commit);
            writer.WriteStartArray("siblings");
            foreach (var (path, content) in repo.Commits[commit])
            {
                writer.WriteStartObject();
                writer.WriteString("rfilename", path);
                if (namesOnly)
                {
                    writer.WriteEndObject();
                    continue;
                }

                writer.WriteNumber("size", content.Length);
                if (FakeRepo.IsLfs(path))
                {
                    var sha = FakeRepo.Sha256(content);
                    writer.WriteString("blobId", FakeRepo.GitBlobSha1(Encoding.ASCII.GetBytes("lfs pointer " + sha)));
                    writer.WriteStartObject("lfs");
                    writer.WriteString("sha256", sha);
                    writer.WriteNumber("size", content.Length);
                    writer.WriteNumber("pointerSize", 134);
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WriteString("blobId", FakeRepo.GitBlobSha1(content));
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
