using System.Net;
using System.Net.Sockets;

namespace Vlm2Vec.Extensions.AI.Tests.Support;

/// <summary>Serves fixed byte arrays over HTTP on 127.0.0.1 (404 for anything else), for remote-image tests.</summary>
internal sealed class LoopbackFileServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly IReadOnlyDictionary<string, byte[]> _files;

    public LoopbackFileServer(IReadOnlyDictionary<string, byte[]> files)
    {
        _files = files;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = ServeAsync();
    }

    public int Port { get; }

    public int Requests;

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public void Dispose() => _listener.Close();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            Interlocked.Increment(ref Requests);
            using var response = context.Response;
            if (_files.TryGetValue(context.Request.Url!.AbsolutePath, out var body))
            {
                response.StatusCode = 200;
                response.ContentType = "image/jpeg";
                response.ContentLength64 = body.Length;
                await response.OutputStream.WriteAsync(body);
            }
            else
            {
                response.StatusCode = 404;
            }
        }
    }
}
