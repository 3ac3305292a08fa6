using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Vlm2Vec.Server.Hosting;

namespace Vlm2Vec.Server;

/// <summary>Maps the embeddings server's routes (after <see cref="Vlm2VecServerServiceCollectionExtensions.AddVlm2VecServer"/>).</summary>
public static class Vlm2VecServerEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>POST /v1/embeddings</c>, <c>GET /v1/models</c>, <c>GET /v1/models/{id}</c> (each also without the
    /// <c>/v1</c> prefix, for clients given the bare host as base address), <c>GET /health</c>, and an OpenAI-shaped 404
    /// for every other path.
    /// </summary>
    public static IEndpointRouteBuilder MapVlm2VecServer(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var handlers = endpoints.ServiceProvider.GetRequiredService<ServerEndpoints>();
        foreach (var prefix in new[] { "/v1", string.Empty })
        {
            endpoints.MapPost(prefix + "/embeddings", handlers.EmbeddingsAsync);
            endpoints.MapGet(prefix + "/models", handlers.ModelsAsync);
            endpoints.MapGet(prefix + "/models/{id}", (Microsoft.AspNetCore.Http.HttpContext context, string id) => handlers.ModelAsync(context, id));
        }

        endpoints.MapGet("/health", handlers.HealthAsync);
        endpoints.MapFallback(handlers.NotFoundAsync);
        return endpoints;
    }
}
