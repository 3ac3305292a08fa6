using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vlm2Vec;
using Vlm2Vec.Extensions.AI;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers a <see cref="Vlm2VecEmbeddingGenerator"/> and the Microsoft.Extensions.AI pipeline over it.
/// </summary>
/// <remarks>
/// <para>Each registration (unkeyed, or keyed by a service key) adds:</para>
/// <list type="bullet">
/// <item><see cref="Vlm2VecEmbeddingGenerator"/> itself: opened from the options' <c>ModelPath</c> by the
/// <see cref="IVlm2VecEncoderFactory"/> services the engines register (or over the encoder you pass);</item>
/// <item><c>IEmbeddingGenerator&lt;AIContent, Embedding&lt;float&gt;&gt;</c>: the pipeline, which the returned builder
/// extends (<c>.UseVlm2VecDistributedCache().UseLogging().UseOpenTelemetry()</c>);</item>
/// <item><c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> and the non-generic
/// <see cref="IEmbeddingGenerator"/>: the same pipeline taking strings too (see
/// <see cref="Vlm2VecEmbeddingGeneratorExtensions.AsMultimodalEmbeddingGenerator"/>), which is what Semantic Kernel and
/// VectorData stores resolve. It is registered last, so it is the container's default non-generic generator.</item>
/// </list>
/// <para>Options are named options (<see cref="IOptionsMonitor{TOptions}"/>): the default name for an unkeyed
/// registration, <c>"Vlm2Vec:" + key</c> for a keyed one, so <c>services.Configure&lt;Vlm2VecEmbeddingGeneratorOptions&gt;(name, …)</c>
/// also applies. The generator is created on first resolution.</para>
/// </remarks>
public static class Vlm2VecServiceCollectionExtensions
{
    /// <summary>Registers a generator opened from options (set <c>ModelPath</c>); engines must register their <see cref="IVlm2VecEncoderFactory"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <param name="lifetime">The lifetime of every registration.</param>
    /// <returns>The pipeline's builder.</returns>
    public static EmbeddingGeneratorBuilder<AIContent, Embedding<float>> AddVlm2VecEmbeddingGenerator(
        this IServiceCollection services, Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null, ServiceLifetime lifetime = ServiceLifetime.Singleton) =>
        Register(services, null, null, configure, OpenFromFactories, lifetime);

    /// <summary>Registers a generator whose options are bound from <paramref name="configuration"/> (e.g. the <c>"Vlm2Vec"</c> section).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section to bind (keys are the option names: <c>ModelPath</c>, <c>Device</c>, <c>MaxTokens</c>, …).</param>
    /// <param name="configure">Adjusts the options after binding.</param>
    /// <param name="lifetime">The lifetime of every registration.</param>
    /// <returns>The pipeline's builder.</returns>
    public static EmbeddingGeneratorBuilder<AIContent, Embedding<float>> AddVlm2VecEmbeddingGenerator(
        this IServiceCollection services, IConfiguration configuration, Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, null, configuration, configure, OpenFromFactories, lifetime);
    }

    /// <summary>Registers a generator over an encoder you created (it is not disposed by the container).</summary>
    /// <param name="services">The services.</param>
    /// <param name="encoder">The encoder.</param>
    /// <param name="configure">Sets the options (the model group is ignored).</param>
    /// <param name="lifetime">The lifetime of every registration.</param>
    /// <returns>The pipeline's builder.</returns>
    public static EmbeddingGeneratorBuilder<AIContent, Embedding<float>> AddVlm2VecEmbeddingGenerator(
        this IServiceCollection services, IVlm2VecEncoder encoder, Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        return Register(services, null, null, configure, Over(encoder), lifetime);
    }

    /// <summary>Registers a generator keyed by <paramref name="serviceKey"/>, opened from options.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The key of every registration (Semantic Kernel's <c>serviceId</c>).</param>
    /// <param name="configure">Sets the options.</param>
    /// <param name="lifetime">The lifetime of every registration.</param>
    /// <returns>The pipeline's builder.</returns>
    public static EmbeddingGeneratorBuilder<AIContent, Embedding<float>> AddKeyedVlm2VecEmbeddingGenerator(
        this IServiceCollection services, object serviceKey, Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        return Register(services, serviceKey, null, configure, OpenFromFactories, lifetime);
    }

    /// <summary>Registers a generator keyed by <paramref name="serviceKey"/> whose options are bound from <paramref name="configuration"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The key of every registration.</param>
    /// <param name="configuration">The section to bind.</param>
    /// <param name="configure">Adjusts the options after binding.</param>
    /// <param name="lifetime">The lifetime of every registration.</param>
    /// <returns>The pipeline's builder.</returns>
    public static EmbeddingGeneratorBuilder<AIContent, Embedding<float>> AddKeyedVlm2VecEmbeddingGenerator(
        this IServiceCollection services, object serviceKey, IConfiguration configuration, Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configuration);
        return Register(services, serviceKey, configuration, configure, OpenFromFactories, lifetime);
    }

    /// <summary>Registers a generator keyed by <paramref name="serviceKey"/> over an encoder you created.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The key of every registration.</param>
    /// <param name="encoder">The encoder (not disposed by the container).</param>
    /// <param name="configure">Sets the options (the model group is ignored).</param>
    /// <param name="lifetime">The lifetime of every registration.</param>
    /// <returns>The pipeline's builder.</returns>
    public static EmbeddingGeneratorBuilder<AIContent, Embedding<float>> AddKeyedVlm2VecEmbeddingGenerator(
        this IServiceCollection services, object serviceKey, IVlm2VecEncoder encoder, Action<Vlm2VecEmbeddingGeneratorOptions>? configure = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(encoder);
        return Register(services, serviceKey, null, configure, Over(encoder), lifetime);
    }

    /// <summary>Registers an engine's encoder factory (engines' own registration methods do the same).</summary>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddVlm2VecEncoderFactory(this IServiceCollection services, IVlm2VecEncoderFactory factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IVlm2VecEncoderFactory), factory));
        return services;
    }

    /// <summary>The options name of a registration: the default name unkeyed, <c>"Vlm2Vec:" + key</c> keyed.</summary>
    public static string GetVlm2VecOptionsName(object? serviceKey) =>
        serviceKey is null ? Options.Options.DefaultName : "Vlm2Vec:" + serviceKey;

    private static EmbeddingGeneratorBuilder<AIContent, Embedding<float>> Register(
        IServiceCollection services,
        object? serviceKey,
        IConfiguration? configuration,
        Action<Vlm2VecEmbeddingGeneratorOptions>? configure,
        Func<IServiceProvider, Vlm2VecEmbeddingGeneratorOptions, ILoggerFactory?, Vlm2VecEmbeddingGenerator> create,
        ServiceLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(services);
        var name = GetVlm2VecOptionsName(serviceKey);
        var options = services.AddOptions<Vlm2VecEmbeddingGeneratorOptions>(name);
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.Add(new ServiceDescriptor(
            typeof(Vlm2VecEmbeddingGenerator),
            serviceKey,
            (provider, _) => create(
                provider,
                provider.GetRequiredService<IOptionsMonitor<Vlm2VecEmbeddingGeneratorOptions>>().Get(name),
                provider.GetService<ILoggerFactory>()),
            lifetime));

        var builder = serviceKey is null
            ? services.AddEmbeddingGenerator<AIContent, Embedding<float>>(provider => provider.GetRequiredService<Vlm2VecEmbeddingGenerator>(), lifetime)
            : services.AddKeyedEmbeddingGenerator<AIContent, Embedding<float>>(
                serviceKey, provider => provider.GetRequiredKeyedService<Vlm2VecEmbeddingGenerator>(serviceKey), lifetime);

        // The string-accepting view over the pipeline, registered after AddEmbeddingGenerator's own non-generic
        // registration so that it is the container's default non-generic generator (the last registration wins).
        services.Add(new ServiceDescriptor(
            typeof(MultimodalEmbeddingGeneratorView),
            serviceKey,
            (provider, key) => new MultimodalEmbeddingGeneratorView(provider.GetRequiredKeyedService<IEmbeddingGenerator<AIContent, Embedding<float>>>(key)),
            lifetime));
        services.Add(new ServiceDescriptor(
            typeof(IEmbeddingGenerator<string, Embedding<float>>), serviceKey, (provider, key) => provider.GetRequiredKeyedService<MultimodalEmbeddingGeneratorView>(key), lifetime));
        services.Add(new ServiceDescriptor(
            typeof(IEmbeddingGenerator), serviceKey, (provider, key) => provider.GetRequiredKeyedService<MultimodalEmbeddingGeneratorView>(key), lifetime));
        return builder;
    }

    private static Vlm2VecEmbeddingGenerator OpenFromFactories(IServiceProvider provider, Vlm2VecEmbeddingGeneratorOptions options, ILoggerFactory? loggerFactory) =>
        Vlm2VecEmbeddingGenerator.Open(provider.GetServices<IVlm2VecEncoderFactory>(), options, loggerFactory);

    private static Func<IServiceProvider, Vlm2VecEmbeddingGeneratorOptions, ILoggerFactory?, Vlm2VecEmbeddingGenerator> Over(IVlm2VecEncoder encoder) =>
        (_, options, loggerFactory) => new Vlm2VecEmbeddingGenerator(encoder, options, loggerFactory, ownsEncoder: false);
}
