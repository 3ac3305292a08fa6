namespace Vlm2Vec.Server;

/// <summary>
/// Settings of the OpenAI-compatible embeddings server: where it listens, the model name clients send, API keys, request
/// limits, dynamic batching and shutdown. The defaults are safe for a local service: loopback only, no key.
/// </summary>
public sealed record Vlm2VecServerOptions
{
    /// <summary>The address the server binds to unless told otherwise: loopback only, port 8080.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>
    /// Addresses to listen on (default <see cref="DefaultUrl"/>, loopback only). Plain <c>http://host:port</c>; port 0
    /// picks a free port (see <see cref="Vlm2VecServerHost.Addresses"/>). Put a reverse proxy in front for TLS.
    /// </summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>
    /// The model id clients send in <c>model</c> and that <c>GET /v1/models</c> lists. Null (default) takes the
    /// encoder's <see cref="Vlm2VecModelInfo.ModelId"/>.
    /// </summary>
    public string? ModelName { get; init; }

    /// <summary>
    /// Other model names accepted as this model (for clients with a fixed model name, e.g. <c>text-embedding-3-small</c>).
    /// Responses echo the name the request used.
    /// </summary>
    public IReadOnlyList<string> ModelAliases { get; init; } = [];

    /// <summary>
    /// API keys accepted as <c>Authorization: Bearer KEY</c> (or an <c>api-key</c> header). Empty (default): no key is
    /// asked for. Keys are compared in constant time.
    /// </summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    /// <summary>
    /// The instruction used for items that carry none (neither per item nor per request). Null (default): such items are
    /// embedded without an instruction, as plain OpenAI clients expect.
    /// </summary>
    public string? DefaultInstruction { get; init; }

    /// <summary>The role of items that give none (default <see cref="EmbeddingRole.Query"/>).</summary>
    public EmbeddingRole DefaultRole { get; init; } = EmbeddingRole.Query;

    /// <summary>Request limits.</summary>
    public Vlm2VecServerLimits Limits { get; init; } = new();

    /// <summary>How concurrent requests are coalesced into encoder batches.</summary>
    public DynamicBatchingOptions Batching { get; init; } = new();

    /// <summary>How long a graceful shutdown waits for in-flight requests to finish (default 30 s).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The <c>Retry-After</c> value (seconds) sent with 429 and 503 answers (default 1).</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range or inconsistent.</exception>
    public void Validate()
    {
        if (Urls is null || Urls.Count == 0)
        {
            throw new ArgumentException("At least one URL to listen on is required (for example http://127.0.0.1:8080).", nameof(Urls));
        }

        foreach (var url in Urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
            {
                throw new ArgumentException(
                    $"'{url}' is not a listening address of the form http://host:port (https is not served: put a reverse proxy in front for TLS).",
                    nameof(Urls));
            }
        }

        if (ModelName is { Length: 0 } || ModelAliases.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Model names and aliases must not be empty.", nameof(ModelName));
        }

        if (ApiKeys.Any(key => string.IsNullOrWhiteSpace(key) || key.Length < 8))
        {
            throw new ArgumentException("API keys must be at least 8 characters long.", nameof(ApiKeys));
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException($"ShutdownTimeout must not be negative, not {ShutdownTimeout}.", nameof(ShutdownTimeout));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(RetryAfterSeconds, 1, nameof(RetryAfterSeconds));
        Limits.Validate();
        Batching.Validate();
        if (Limits.MaxItemsPerRequest > Limits.MaxQueuedItems)
        {
            throw new ArgumentException(
                $"MaxItemsPerRequest ({Limits.MaxItemsPerRequest}) must not exceed MaxQueuedItems ({Limits.MaxQueuedItems}): such a request could never be admitted.",
                nameof(Limits));
        }
    }
}
