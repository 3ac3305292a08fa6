using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vlm2Vec.Server.Hosting;

namespace Vlm2Vec.Server;

/// <summary>
/// A ready-made host for the embeddings server: Kestrel on <see cref="Vlm2VecServerOptions.Urls"/> (loopback by
/// default), nothing read from configuration files or environment variables, graceful shutdown within
/// <see cref="Vlm2VecServerOptions.ShutdownTimeout"/>. The CLI's <c>vlm2vec serve</c> and the integration tests use it;
/// an application with its own host uses <see cref="Vlm2VecServerServiceCollectionExtensions.AddVlm2VecServer"/> and
/// <see cref="Vlm2VecServerEndpointRouteBuilderExtensions.MapVlm2VecServer"/> instead.
/// </summary>
public sealed class Vlm2VecServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Vlm2VecServerOptions _options;

    private Vlm2VecServerHost(WebApplication app, Vlm2VecServerOptions options)
    {
        _app = app;
        _options = options;
    }

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The addresses listened on, with the real port when port 0 was asked for (known after <see cref="StartAsync"/>).</summary>
    public IReadOnlyList<Uri> Addresses =>
        _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.Select(a => new Uri(a)).ToList() ?? [];

    /// <summary>Builds the host; nothing listens or loads until <see cref="StartAsync"/>.</summary>
    /// <param name="options">The server settings.</param>
    /// <param name="loadEncoder">Loads the model; called once in the background at start. The server owns and disposes the encoder.</param>
    /// <param name="loggerFactory">Where logs go; none by default.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static Vlm2VecServerHost Create(
        Vlm2VecServerOptions options, Func<CancellationToken, Task<IVlm2VecEncoder>> loadEncoder, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loadEncoder);
        options.Validate();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(Vlm2VecServerHost).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.Limits.MaxRequestBodyBytes;
        });
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.Services.AddVlm2VecServer(options, loadEncoder);
        var app = builder.Build();
        app.MapVlm2VecServer();
        return new Vlm2VecServerHost(app, options);
    }

    /// <summary>Starts listening; the model loads in the background (see <see cref="WaitForModelAsync"/>).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        if (_options.ApiKeys.Count == 0)
        {
            var logger = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Vlm2Vec.Server");
            foreach (var address in Addresses)
            {
                if (!IsLoopback(address))
                {
                    ServerLog.ExposedWithoutKey(logger, address.ToString());
                }
            }
        }
    }

    /// <summary>Completes when the model is loaded and requests are served.</summary>
    /// <exception cref="Exception">The model failed to load (its error).</exception>
    public Task WaitForModelAsync(CancellationToken cancellationToken = default) =>
        _app.Services.GetRequiredService<ServerModel>().Ready.WaitAsync(cancellationToken);

    /// <summary>Stops gracefully: no new connections, in-flight requests finish (within the shutdown timeout), then the model is released.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>Completes when the host has stopped (after <see cref="StopAsync"/> or when <paramref name="cancellationToken"/> asks it to stop).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static bool IsLoopback(Uri address) =>
        address.IsLoopback || (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
