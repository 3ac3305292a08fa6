using Vlm2Vec;
using Vlm2Vec.Extensions.AI;
using Vlm2Vec.Extensions.AI.SemanticKernel;

namespace Microsoft.SemanticKernel;

/// <summary>
/// Semantic Kernel registrations for Vlm2Vec on <see cref="IKernelBuilder"/>: the embedding generator (a
/// <c>serviceId</c> becomes the dependency-injection key, as in Semantic Kernel's connectors) and the multimodal memory
/// plugin.
/// </summary>
public static class Vlm2VecKernelBuilderExtensions
{
    /// <summary>
    /// Adds a Vlm2Vec embedding generator opened from <paramref name="modelPath"/> by a registered engine. The kernel
    /// resolves it as <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> and
    /// <c>IEmbeddingGenerator&lt;AIContent, Embedding&lt;float&gt;&gt;</c> (keyed by <paramref name="serviceId"/>).
    /// </summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="modelPath">The model folder.</param>
    /// <param name="configure">Adjusts the options (device, limits, instructions, …).</param>
    /// <param name="serviceId">The service id (dependency-injection key), or null.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IKernelBuilder AddVlm2VecEmbeddingGenerator(
        this IKernelBuilder builder, string modelPath, Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddVlm2VecEmbeddingGenerator(modelPath, configure, serviceId);
        return builder;
    }

    /// <summary>Adds a Vlm2Vec embedding generator over an encoder you created (not disposed by the kernel's container).</summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="encoder">The encoder.</param>
    /// <param name="configure">Adjusts the options (instructions, batching, …).</param>
    /// <param name="serviceId">The service id (dependency-injection key), or null.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IKernelBuilder AddVlm2VecEmbeddingGenerator(
        this IKernelBuilder builder, IVlm2VecEncoder encoder, Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(encoder);
        if (serviceId is null)
        {
            Extensions.DependencyInjection.Vlm2VecServiceCollectionExtensions.AddVlm2VecEmbeddingGenerator(builder.Services, encoder, configure);
        }
        else
        {
            Extensions.DependencyInjection.Vlm2VecServiceCollectionExtensions.AddKeyedVlm2VecEmbeddingGenerator(builder.Services, serviceId, encoder, configure);
        }

        return builder;
    }

    /// <summary>
    /// Adds the <see cref="MultimodalMemoryPlugin"/> as plugin <paramref name="pluginName"/>, over a collection of the
    /// <c>VectorStore</c> registered under <paramref name="serviceId"/>, embedded by the Vlm2Vec generator registered
    /// under the same id.
    /// </summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="pluginName">The plugin name (default <c>memory</c>); the plugin object is also registered keyed by it.</param>
    /// <param name="configure">Sets the collection name, allowed image folders, result counts.</param>
    /// <param name="serviceId">The service id of the store and the generator, or null.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IKernelBuilder AddVlm2VecMemoryPlugin(
        this IKernelBuilder builder, string pluginName = "memory", Action<MultimodalMemoryOptions>? configure = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Vlm2VecMemoryRegistration.AddMemoryPlugin(builder.Services, pluginName, configure, serviceId);
        return builder;
    }
}
