using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.Server.Batching;

namespace Vlm2Vec.Server.Hosting;

/// <summary>
/// The served model: loads the encoder in the background when the host starts (so <c>/health</c> can say "loading"),
/// builds the serving preprocessor (the encoder's, under the server's limits) and the <see cref="DynamicBatcher"/>, and
/// on shutdown drains the batcher before disposing the encoder. Owns the encoder.
/// </summary>
internal sealed class ServerModel : IHostedService, IAsyncDisposable
{
    private readonly Vlm2VecServerOptions _options;
    private readonly Func<CancellationToken, Task<IVlm2VecEncoder>> _loadEncoder;
    private readonly ServerMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _loadCancellation = new();
    private Task _loading = Task.CompletedTask;
    private volatile ServerModelState _state = ServerModelState.Loading;
    private IVlm2VecEncoder? _encoder;
    private DynamicBatcher? _batcher;
    private int _disposed;

    public ServerModel(Vlm2VecServerOptions options, Func<CancellationToken, Task<IVlm2VecEncoder>> loadEncoder, ServerMetrics metrics, ILoggerFactory loggerFactory)
    {
        _options = options;
        _loadEncoder = loadEncoder;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Vlm2Vec.Server");
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public ServerModelState State => _state;

    /// <summary>Why loading failed, when it did.</summary>
    public Exception? LoadError { get; private set; }

    /// <summary>Completes when the model is ready; faults when loading fails.</summary>
    public Task Ready => _ready.Task;

    /// <summary>The served name (options, else the encoder's id); null until known.</summary>
    public string? Name => _options.ModelName ?? _encoder?.Info.ModelId;

    /// <summary>When the server started (the <c>created</c> field of <c>/v1/models</c>).</summary>
    public long Created { get; }

    public IVlm2VecEncoder Encoder => _encoder ?? throw new InvalidOperationException("The model is not loaded.");

    public DynamicBatcher Batcher => _batcher ?? throw new InvalidOperationException("The model is not loaded.");

    /// <summary>The serving preprocessor (limits applied).</summary>
    public Vlm2VecPreprocessor? Preprocessor { get; private set; }

    /// <summary>Whether <paramref name="model"/> names this model (its name or an alias).</summary>
    public bool Accepts(string model)
    {
        if (string.Equals(model, Name, StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var alias in _options.ModelAliases)
        {
            if (string.Equals(model, alias, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loading = Task.Run(LoadAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _state = ServerModelState.Stopping;
        await _loadCancellation.CancelAsync().ConfigureAwait(false);
        await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_batcher is { } batcher)
        {
            ServerLog.Draining(_logger, batcher.InFlight);
            await batcher.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered as itself and as a hosted service: the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _loadCancellation.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loading.ConfigureAwait(false);
        }
        finally
        {
            if (_batcher is not null)
            {
                await _batcher.DisposeAsync().ConfigureAwait(false);
            }

            _encoder?.Dispose();
            _loadCancellation.Dispose();
        }
    }

    private async Task LoadAsync()
    {
        var watch = Stopwatch.StartNew();
        ServerLog.Loading(_logger);
        try
        {
            var encoder = await _loadEncoder(_loadCancellation.Token).ConfigureAwait(false)
                ?? throw new InvalidOperationException("The encoder factory returned null.");
            _encoder = encoder;
            var limits = _options.Limits;
            var source = encoder.Preprocessor;
            Preprocessor = source.WithOptions(
                source.Options with
                {
                    ImageLimits = new ImageLimits { MaxEncodedBytes = limits.MaxImageBytes, MaxPixels = limits.MaxImagePixels },
                    MaxTokens = Math.Min(limits.MaxInputTokens ?? int.MaxValue, source.MaxTokens),
                    Truncation = limits.TruncateLongInputs ? TruncationPolicy.TruncateText : TruncationPolicy.Refuse,
                },
                _loggerFactory.CreateLogger("Vlm2Vec.Server.Preprocessing"));
            _batcher = new DynamicBatcher(
                encoder, Preprocessor, _options.Batching, _options.Limits.MaxQueuedItems, _metrics, _loggerFactory.CreateLogger("Vlm2Vec.Server.Batching"));
            if (_state == ServerModelState.Loading)
            {
                _state = ServerModelState.Ready;
            }

            ServerLog.Ready(_logger, Name!, encoder.Info.Dimension, encoder.Info.Engine, watch.Elapsed.TotalSeconds);
            _ready.TrySetResult();
        }
        catch (Exception ex)
        {
            LoadError = ex;
            if (_state == ServerModelState.Loading)
            {
                _state = ServerModelState.Failed;
            }

            if (ex is not OperationCanceledException)
            {
                ServerLog.LoadFailed(_logger, ex);
            }

            _ready.TrySetException(ex);
        }
    }
}
