using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Microsoft.SemanticKernel;

namespace Vlm2Vec.Extensions.AI.SemanticKernel;

/// <summary>Builds the memory plugin from a container: the store and generator registered under one service key.</summary>
internal static class Vlm2VecMemoryRegistration
{
    public static IServiceCollection AddMemoryPlugin(IServiceCollection services, string pluginName, Action<MultimodalMemoryOptions>? configure, string? serviceId)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(pluginName);
        services.AddKeyedSingleton(pluginName, (provider, _) =>
        {
            var options = new MultimodalMemoryOptions();
            configure?.Invoke(options);
            var store = provider.GetKeyedService<VectorStore>(serviceId) ?? throw new InvalidOperationException(
                $"No VectorStore is registered{Describe(serviceId)}: register one (for example services.AddVlm2VecVectorStore(path)) before the memory plugin '{pluginName}' is resolved.");
            var generator = provider.GetKeyedService<IEmbeddingGenerator<AIContent, Embedding<float>>>(serviceId) ?? throw new InvalidOperationException(
                $"No IEmbeddingGenerator<AIContent, Embedding<float>> is registered{Describe(serviceId)}: register one with AddVlm2VecEmbeddingGenerator before the memory plugin '{pluginName}' is resolved.");
            var dimensions = generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelDimensions ?? throw new InvalidOperationException(
                "The embedding generator does not report its dimensions (EmbeddingGeneratorMetadata.DefaultModelDimensions); the memory collection needs them.");
            var collection = store.GetCollection<string, MultimodalMemoryRecord>(options.CollectionName, MultimodalMemoryRecord.CreateDefinition(generator, dimensions));
            return new MultimodalMemoryPlugin(collection, options);
        });
        services.AddSingleton(provider => KernelPluginFactory.CreateFromObject(provider.GetRequiredKeyedService<MultimodalMemoryPlugin>(pluginName), pluginName));
        return services;
    }

    private static string Describe(string? serviceId) => serviceId is null ? string.Empty : $" with service id '{serviceId}'";
}
