using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Vlm2Vec.Hub;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Loopback throughput of <see cref="HubClient"/>: one large LFS-style file served under the hub's URL layout by a local
/// HttpListener, downloaded into a fresh cache (sha256 check, .incomplete write, rename, symlink), against a plain
/// HttpClient copy of the same bytes to a file as the baseline. Args: [size MiB, default 512] [repeats, default 3].
/// </summary>
internal sealed class HubDownloadBenchmark : IBenchmark
{
    private const int BlockSize = 1 << 20;

    public string Name => "hub-download";

    public string Description => "HubClient snapshot download over loopback (sha256 + atomic placement) vs a plain HttpClient copy";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        var sizeMiB = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 512;
        var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var block = new byte[BlockSize];
        new Random(7).NextBytes(block);
        long size = (long)sizeMiB * BlockSize;
        var sha256 = Sha256OfRepeated(block, sizeMiB);
        const string commit = "0123456789abcdef0123456789abcdef01234567";

        using var listener = StartListener(out var port);
        using var stop = new CancellationTokenSource();
        var serving = ServeAsync(listener, block, sizeMiB, sha256, commit, port, stop.Token);
        var root = Path.Combine(Path.GetTempPath(), "vlm2vec-hub-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            BenchmarkContext.Report($"file {sizeMiB} MiB, {repeats} repeats each, temp folder {root}");
            using var http = new HttpClient();
            for (var i = 0; i < repeats; i++)
            {
                var target = Path.Combine(root, "plain.bin");
                var sw = Stopwatch.StartNew();
                await using (var body = await http.GetStreamAsync(new Uri($"http://127.0.0.1:{port}/cdn/{sha256}")))
                await using (var file = File.Create(target))
                {
                    await body.CopyToAsync(file);
                }

                Report("plain HttpClient copy ", size, sw.Elapsed);
                File.Delete(target);
            }

            for (var i = 0; i < repeats; i++)
            {
                var cache = Path.Combine(root, "cache" + i);
                BenchmarkContext.ResetPeakWorkingSet();
                using var client = new HubClient(new HubClientOptions { Endpoint = $"http://127.0.0.1:{port}", CacheFolder = cache, Token = string.Empty });
                var sw = Stopwatch.StartNew();
                var folder = await client.DownloadSnapshotAsync("bench/model", filter: HubFileFilter.All);
                Report("HubClient snapshot    ", size, sw.Elapsed, $", peak RSS {BenchmarkContext.PeakWorkingSetMiB():0} MiB");
                if (new FileInfo(Path.Combine(folder, "model.safetensors")).ResolveLinkTarget(true) is not FileInfo { Length: var length } || length != size)
                {
                    throw new InvalidOperationException("The downloaded file has the wrong size.");
                }

                Directory.Delete(cache, recursive: true);
            }
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            await serving.ContinueWith(_ => { }, TaskScheduler.Default);
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Report(string what, long bytes, TimeSpan elapsed, string extra = "") =>
        BenchmarkContext.Report($"{what} {bytes / elapsed.TotalSeconds / (1 << 20),8:0} MiB/s ({elapsed.TotalSeconds:0.00} s){extra}");

    private static string Sha256OfRepeated(byte[] block, int count)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var i = 0; i < count; i++)
        {
            hash.AppendData(block);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static HttpListener StartListener(out int port)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        return listener;
    }

    /// <summary>A minimal hub: the listing, a resolve that redirects to /cdn/{sha256}, and the CDN body.</summary>
    private static async Task ServeAsync(HttpListener listener, byte[] block, int blocks, string sha256, string commit, int port, CancellationToken stop)
    {
        var size = (long)blocks * block.Length;
        while (!stop.IsCancellationRequested)
        {
            var context = await listener.GetContextAsync();
            var path = context.Request.RawUrl!.Split('?')[0];
            var response = context.Response;
            try
            {
                if (path.StartsWith("/api/models/", StringComparison.Ordinal))
                {
                    var sibling = string.Create(
                        CultureInfo.InvariantCulture,
                        $"\"rfilename\":\"model.safetensors\",\"size\":{size},\"blobId\":\"{new string('a', 40)}\",\"lfs\":{{\"sha256\":\"{sha256}\",\"size\":{size}}}");
                    var json = Encoding.UTF8.GetBytes($"{{\"sha\":\"{commit}\",\"siblings\":[{{{sibling}}}]}}");
                    response.ContentLength64 = json.Length;
                    await response.OutputStream.WriteAsync(json, stop);
                }
                else if (path.Contains("/resolve/", StringComparison.Ordinal))
                {
                    response.AddHeader("X-Repo-Commit", commit);
                    response.AddHeader("X-Linked-Etag", $"\"{sha256}\"");
                    response.AddHeader("X-Linked-Size", size.ToString(CultureInfo.InvariantCulture));
                    response.RedirectLocation = $"http://127.0.0.1:{port}/cdn/{sha256}";
                    response.StatusCode = 302;
                }
                else
                {
                    response.ContentLength64 = size;
                    for (var i = 0; i < blocks; i++)
                    {
                        await response.OutputStream.WriteAsync(block, stop);
                    }
                }

                response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or OperationCanceledException)
            {
                response.Abort();
            }
        }
    }
}
