using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Hub;

/// <summary>
/// Settings of a <see cref="HubClient"/>. Every setting left unset follows the environment variables the Python
/// <c>huggingface_hub</c> library reads, so a cache and a login are shared with Python users.
/// </summary>
public sealed class HubClientOptions
{
    /// <summary>The public Hugging Face hub, used when neither <see cref="Endpoint"/> nor <c>HF_ENDPOINT</c> is set.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>
    /// The hub's base address (a mirror or a private hub). Unset: <c>HF_ENDPOINT</c>, else <see cref="DefaultEndpoint"/>.
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary>
    /// The access token, sent as <c>Authorization: Bearer</c> to the hub only (never to the CDN it redirects to).
    /// Unset: <c>HF_TOKEN</c>, else the token file (<c>HF_TOKEN_PATH</c>, else <c>$HF_HOME/token</c>, which
    /// <c>hf auth login</c> writes). An empty string sends no token even when the environment has one.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>
    /// The cache folder, in the layout Python shares (<c>models--org--name/blobs|snapshots|refs</c>). Unset:
    /// <c>HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>~/.cache/huggingface/hub</c>.
    /// </summary>
    public string? CacheFolder { get; set; }

    /// <summary>
    /// Use the cache only and never touch the network. Unset: <c>HF_HUB_OFFLINE</c> (or <c>TRANSFORMERS_OFFLINE</c>) is
    /// <c>1</c>/<c>true</c>/<c>yes</c>/<c>on</c>.
    /// </summary>
    public bool? Offline { get; set; }

    /// <summary>How long to wait for a response's headers before the attempt counts as failed and is retried. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a transfer may stall (no byte received) before it is dropped and resumed. Default 60 s.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Retries of a request that failed for a transient reason (connection error, time-out, 408/429/5xx, a transfer cut
    /// before its end that made no progress). A transfer that made progress resets the count. Default 5.
    /// </summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>The first retry's delay; each further retry doubles it (with jitter, capped at 30 s). Default 1 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Files transferred at the same time by a snapshot download. Default 8.</summary>
    public int MaxParallelDownloads { get; set; } = 8;

    /// <summary>The <c>User-Agent</c> header. Unset: <c>vlm2vec/{version}; dotnet/{runtime version}</c>.</summary>
    public string? UserAgent { get; set; }

    /// <summary>Receives warnings (retries, resumed and discarded transfers, cache fall-backs) and debug messages.</summary>
    public ILogger? Logger { get; set; }
}
