using System.Collections.Concurrent;

namespace Vlm2Vec.Server.Tests.Fakes;

/// <summary>Passes requests on and keeps a copy of each body, so tests can see what a client sent on the wire.</summary>
internal sealed class RecordingHandler : DelegatingHandler
{
    public RecordingHandler()
        : base(new SocketsHttpHandler())
    {
    }

    public ConcurrentQueue<(string Path, string Body, string? Authorization)> Requests { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Enqueue((request.RequestUri!.AbsolutePath, body, request.Headers.Authorization?.ToString()));
        return await base.SendAsync(request, cancellationToken);
    }
}
