using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vlm2Vec.Server.Hosting;

namespace Vlm2Vec.Server;

/// <summary>Registers the embeddings server's services in an ASP.NET Core application (pair with <see cref="Vlm2VecServerEndpointRouteBuilderExtensions.MapVlm2VecServer"/>).</summary>
public static class Vlm2VecServerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the server: the model (loaded in the background by <paramref name="loadEncoder"/> when the host starts, owned
    /// and disposed by the server), the dynamic batcher, API-key checking and the <see cref="Vlm2VecServerMetrics"/>
    /// meter. Register it before the web server starts so that shutdown drains requests before the model is released.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid (see <see cref="Vlm2VecServerOptions.Validate"/>).</exception>
    public static IServiceCollection AddVlm2VecServer(
        this IServiceCollection services, Vlm2VecServerOptions options, Func<CancellationToken, Task<IVlm2VecEncoder>> loadEncoder)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loadEncoder);
        options.Validate();
        services.AddMetrics();
        services.AddLogging();
        services.AddSingleton(options);
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<ApiKeyCheck>();
        services.AddSingleton(provider => new ServerModel(
            options, loadEncoder, provider.GetRequiredService<ServerMetrics>(), provider.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService(provider => provider.GetRequiredService<ServerModel>());
        services.AddSingleton<ServerEndpoints>();
        return services;
    }
}
