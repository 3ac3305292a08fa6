using System.Reflection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vlm2Vec.Hub;

/// <summary><see cref="HubClientOptions"/> with every unset value resolved from the environment, and validated.</summary>
internal sealed class HubSettings
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private HubSettings(
        Uri endpoint,
        string? token,
        string tokenPath,
        string cacheFolder,
        bool offline,
        bool useSymlinks,
        HubClientOptions options)
    {
        Endpoint = endpoint;
        Token = token;
        TokenPath = tokenPath;
        CacheFolder = cacheFolder;
        Offline = offline;
        UseSymlinks = useSymlinks;
        RequestTimeout = options.RequestTimeout;
        ReadTimeout = options.ReadTimeout;
        MaxRetries = options.MaxRetries;
        RetryBaseDelay = options.RetryBaseDelay;
        MaxParallelDownloads = options.MaxParallelDownloads;
        UserAgent = options.UserAgent ?? DefaultUserAgent();
        Logger = options.Logger ?? NullLogger.Instance;
    }

    public Uri Endpoint { get; }

    /// <summary>The endpoint as a string without trailing slash, for building URLs.</summary>
    public string EndpointBase => Endpoint.AbsoluteUri.TrimEnd('/');

    public string? Token { get; }

    public string TokenPath { get; }

    public string CacheFolder { get; }

    public bool Offline { get; }

    public bool UseSymlinks { get; }

    public TimeSpan RequestTimeout { get; }

    public TimeSpan ReadTimeout { get; }

    public int MaxRetries { get; }

    public TimeSpan RetryBaseDelay { get; }

    public int MaxParallelDownloads { get; }

    public string UserAgent { get; }

    public ILogger Logger { get; }

    public static HubSettings Resolve(HubClientOptions options, HubEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxParallelDownloads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxParallelDownloads, "MaxParallelDownloads must be at least 1.");
        }

        if (options.MaxRetries < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxRetries, "MaxRetries must be 0 or more.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero || options.ReadTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "RequestTimeout and ReadTimeout must be positive.");
        }

        if (options.RetryBaseDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.RetryBaseDelay, "RetryBaseDelay must not be negative.");
        }

        var endpointText = string.IsNullOrWhiteSpace(options.Endpoint) ? environment.Endpoint : options.Endpoint.Trim().TrimEnd('/');
        if (!Uri.TryCreate(endpointText + "/", UriKind.Absolute, out var endpoint) ||
            (endpoint.Scheme != Uri.UriSchemeHttps && endpoint.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException(
                $"The hub endpoint '{endpointText}' is not an absolute http(s) address (set HubClientOptions.Endpoint or HF_ENDPOINT, e.g. '{HubClientOptions.DefaultEndpoint}').",
                nameof(options));
        }

        var token = options.Token is null ? environment.ReadToken() : options.Token.Trim();
        if (string.IsNullOrEmpty(token))
        {
            token = null;
        }

        var cacheFolder = Path.GetFullPath(string.IsNullOrWhiteSpace(options.CacheFolder) ? environment.HubCache : options.CacheFolder);
        return new HubSettings(
            endpoint,
            token,
            environment.TokenPath,
            cacheFolder,
            options.Offline ?? environment.Offline,
            !environment.DisableSymlinks,
            options);
    }

    /// <summary>The delay before retry number <paramref name="retry"/> (1-based): doubling from the base, jittered ±25 %, capped.</summary>
    public TimeSpan RetryDelay(int retry, TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } serverDelay && serverDelay >= TimeSpan.Zero)
        {
            return serverDelay < MaxRetryDelay ? serverDelay : MaxRetryDelay;
        }

        var exponential = RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry - 1, 16));
        var jitter = 0.75 + (Random.Shared.NextDouble() * 0.5);
        return TimeSpan.FromMilliseconds(Math.Min(exponential * jitter, MaxRetryDelay.TotalMilliseconds));
    }

    private static string DefaultUserAgent()
    {
        var version = typeof(HubSettings).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            version = version[..plus];
        }

        return $"vlm2vec/{version}; dotnet/{Environment.Version}";
    }
}
