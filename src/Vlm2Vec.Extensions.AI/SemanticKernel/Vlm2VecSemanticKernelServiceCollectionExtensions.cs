using Microsoft.Extensions.DependencyInjection;
using Vlm2Vec.Extensions.AI;
using Vlm2Vec.Extensions.AI.SemanticKernel;

namespace Microsoft.SemanticKernel;

/// <summary>
/// Semantic Kernel-style registrations for Vlm2Vec on <see cref="IServiceCollection"/> (a <c>serviceId</c> becomes the
/// dependency-injection key). For the Microsoft.Extensions.AI builder (middleware), use
/// <see cref="Extensions.DependencyInjection.Vlm2VecServiceCollectionExtensions"/>.
/// </summary>
public static class Vlm2VecSemanticKernelServiceCollectionExtensions
{
    /// <summary>Adds a Vlm2Vec embedding generator opened from <paramref name="modelPath"/> by a registered engine.</summary>
    /// <param name="services">The services.</param>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <param name="serviceId">The service id (dependency-injection key), or null.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddVlm2VecEmbeddingGenerator(
        this IServiceCollection services, string modelPath, Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        void Configure(Vlm2VecEmbeddingGeneratorOptions options)
        {
            options.ModelPath = modelPath;
            configure?.Invoke(options);
        }

        if (serviceId is null)
        {
            services.AddVlm2VecEmbeddingGenerator(Configure);
        }
        else
        {
            services.AddKeyedVlm2VecEmbeddingGenerator(serviceId, Configure);
        }

        return services;
    }

    /// <summary>
    /// Adds the <see cref="MultimodalMemoryPlugin"/> (as a <see cref="KernelPlugin"/>, which kernels built from these
    /// services pick up) over the <c>VectorStore</c> and Vlm2Vec generator registered under <paramref name="serviceId"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="pluginName">The plugin name (default <c>memory</c>).</param>
    /// <param name="configure">Sets the collection name, allowed image folders, result counts.</param>
    /// <param name="serviceId">The service id of the store and the generator, or null.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddVlm2VecMemoryPlugin(
        this IServiceCollection services, string pluginName = "memory", Action<MultimodalMemoryOptions>? configure = null, string? serviceId = null) =>
        Vlm2VecMemoryRegistration.AddMemoryPlugin(services, pluginName, configure, serviceId);
}
