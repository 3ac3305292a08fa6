using System.Net;
using System.Net.Http.Headers;

namespace Vlm2Vec.Hub;

/// <summary>
/// Sends hub requests: follows redirects itself (so the token goes to the hub's own host only, never to the CDN a file
/// redirects to), retries transient failures with exponential back-off, and maps error answers to <see cref="HubException"/>.
/// </summary>
internal sealed class HubHttp : IDisposable
{
    private const int MaxRedirects = 10;

    private readonly HttpClient _client;
    private readonly HubSettings _settings;

    public HubHttp(HubSettings settings, HttpMessageHandler? handler)
    {
        _settings = settings;
        handler ??= new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = settings.RequestTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        _client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HubSettings Settings => _settings;

    /// <summary>
    /// Sends a request and returns the first answer that is a success (2xx), or with
    /// <paramref name="stopAtForeignRedirect"/> a redirect to another host (what a metadata HEAD wants: the hub's headers and
    /// the CDN address). Transient failures are retried; every other error answer throws.
    /// </summary>
    /// <param name="method">GET or HEAD.</param>
    /// <param name="uri">The first address.</param>
    /// <param name="rangeFrom">When above 0, asks for the bytes from this offset on (<c>Range: bytes=N-</c>).</param>
    /// <param name="stopAtForeignRedirect">Return a redirect to another host instead of following it.</param>
    /// <param name="context">What the request is for (for error messages).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<HttpResponseMessage> SendAsync(
        HttpMethod method,
        Uri uri,
        long rangeFrom,
        bool stopAtForeignRedirect,
        HubRequestContext context,
        CancellationToken cancellationToken)
    {
        for (var retry = 0; ; retry++)
        {
            string reason;
            TimeSpan? retryAfter = null;
            Exception? failure = null;
            HttpStatusCode? failedStatus = null;
            var current = uri;
            try
            {
                for (var hop = 0; ; hop++)
                {
                    var sendToken = _settings.Token is not null && IsHubHost(current);
                    var response = await SendOnceAsync(method, current, rangeFrom, sendToken, cancellationToken).ConfigureAwait(false);
                    if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                    {
                        var next = new Uri(current, location);
                        if (stopAtForeignRedirect && !SameAuthority(current, next))
                        {
                            return response;
                        }

                        response.Dispose();
                        if (hop >= MaxRedirects)
                        {
                            throw new HubException(
                                HubErrorKind.UnexpectedResponse,
                                $"More than {MaxRedirects} redirects for {uri} ('{context.RepoId}'); the hub or a proxy is misconfigured.",
                                context.RepoId, context.FileName);
                        }

                        current = next;
                        continue;
                    }

                    if (response.IsSuccessStatusCode)
                    {
                        return response;
                    }

                    using (response)
                    {
                        if (!HubErrors.IsTransient(response.StatusCode))
                        {
                            throw HubErrors.FromResponse(response, context, _settings, sendToken);
                        }

                        failedStatus = response.StatusCode;
                        reason = $"HTTP {(int)response.StatusCode}";
                        retryAfter = RetryAfter(response.Headers.RetryAfter);
                    }

                    break;
                }
            }
            catch (HttpRequestException ex)
            {
                failure = ex;
                reason = ex.Message;
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                failure = ex;
                reason = $"no response within {_settings.RequestTimeout.TotalSeconds:0.#} s";
            }

            if (retry >= _settings.MaxRetries && failedStatus is { } status)
            {
                throw new HubException(
                    HubErrorKind.ServerError,
                    $"The hub kept answering HTTP {(int)status} for {current} ('{context.RepoId}'" +
                    (context.FileName is null ? string.Empty : $", '{context.FileName}'") +
                    $") after {retry + 1} attempts. It is busy or down: try again later, or set HF_HUB_OFFLINE=1 to use the cache.",
                    context.RepoId, context.FileName, (int)status);
            }

            if (retry >= _settings.MaxRetries)
            {
                throw new HubException(
                    HubErrorKind.NetworkFailure,
                    $"Could not reach {current.GetLeftPart(UriPartial.Authority)} for '{context.RepoId}'" +
                    (context.FileName is null ? string.Empty : $" ('{context.FileName}')") +
                    $" after {retry + 1} attempts: {reason}. Check the connection, proxy (HTTPS_PROXY) and HF_ENDPOINT, " +
                    "or set HF_HUB_OFFLINE=1 to use the cache only.",
                    context.RepoId, context.FileName, null, failure);
            }

            var delay = _settings.RetryDelay(retry + 1, retryAfter);
            HubLog.Retrying(_settings.Logger, current.ToString(), reason, retry + 1, _settings.MaxRetries, (long)delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _client.Dispose();

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, Uri uri, long rangeFrom, bool sendToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.UserAgent.TryParseAdd(_settings.UserAgent);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity")); // sizes must be the real file sizes
        if (rangeFrom > 0)
        {
            request.Headers.Range = new RangeHeaderValue(rangeFrom, null);
        }

        if (sendToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _settings.Token);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.RequestTimeout);
        return await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
    }

    private bool IsHubHost(Uri uri) => SameAuthority(uri, _settings.Endpoint);

    private static bool SameAuthority(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static bool IsRedirect(HttpStatusCode status) => (int)status is 301 or 302 or 303 or 307 or 308;

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return header?.Date is { } date ? date - DateTimeOffset.UtcNow : null;
    }
}
