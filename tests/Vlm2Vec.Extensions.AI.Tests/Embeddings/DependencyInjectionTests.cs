using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using TextContent = Microsoft.Extensions.AI.TextContent;
using Vlm2Vec.Extensions.AI.Tests.Support;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Extensions.AI.Tests.Embeddings;

/// <summary><c>AddVlm2VecEmbeddingGenerator</c>: encoder factories, options, keyed registrations, the builder and SK-style ids.</summary>
public sealed class DependencyInjectionTests : IDisposable
{
    private readonly TempFolder _models = new("vlm2vec-di");

    public void Dispose() => _models.Dispose();

    [Fact]
    public async Task Opens_the_model_path_with_a_registered_engine_and_registers_every_view()
    {
        var factory = new TestEncoderFactory();
        var services = new ServiceCollection().AddVlm2VecEncoderFactory(factory);
        var path = TestEncoderFactory.CreateModelFolder(_models, "model-a");
        services.AddVlm2VecEmbeddingGenerator(o => o.ModelPath = path);
        await using var provider = services.BuildServiceProvider();

        var generator = provider.GetRequiredService<Vlm2VecEmbeddingGenerator>();
        var pipeline = provider.GetRequiredService<IEmbeddingGenerator<AIContent, Embedding<float>>>();
        var text = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var untyped = provider.GetRequiredService<IEmbeddingGenerator>();

        Assert.Equal("model-a", generator.ModelId);
        Assert.Same(generator, pipeline.GetService<Vlm2VecEmbeddingGenerator>());
        Assert.Same(text, untyped);
        Assert.IsAssignableFrom<IEmbeddingGenerator<AIContent, Embedding<float>>>(untyped);
        Assert.Equal(path, Assert.Single(factory.Requests).ModelPath);
        var fromText = await text.GenerateAsync(["a dog"]);
        var fromContent = await pipeline.GenerateAsync([new TextContent("a dog")]);
        Assert.Equal(TestModel.Vector(fromContent[0]), TestModel.Vector(fromText[0]));

        var encoder = Assert.Single(factory.Created);
        await provider.DisposeAsync();
        Assert.True(encoder.Disposed);
    }

    [Fact]
    public async Task Options_bind_from_configuration_and_reach_the_engine_and_the_generator()
    {
        var factory = new TestEncoderFactory("hashing");
        var path = TestEncoderFactory.CreateModelFolder(_models, "configured");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Vlm2Vec:ModelPath"] = path,
            ["Vlm2Vec:Engine"] = "HASHING",
            ["Vlm2Vec:Device"] = "cuda:1",
            ["Vlm2Vec:MaxTokens"] = "300",
            ["Vlm2Vec:Truncation"] = "Refuse",
            ["Vlm2Vec:MaxImageBytes"] = "123456",
            ["Vlm2Vec:MaxImageProcessorPixels"] = "50176",
            ["Vlm2Vec:DefaultRole"] = "Target",
            ["Vlm2Vec:DefaultInstructions:TextTarget"] = "Represent the note:",
            ["Vlm2Vec:ItemErrors"] = "ReturnEmpty",
        }).Build();
        var services = new ServiceCollection().AddVlm2VecEncoderFactory(factory);
        services.AddVlm2VecEmbeddingGenerator(configuration.GetSection(Vlm2VecEmbeddingGeneratorOptions.DefaultSectionName), o => o.MaxBatchSize = 3);
        await using var provider = services.BuildServiceProvider();

        var generator = provider.GetRequiredService<Vlm2VecEmbeddingGenerator>();
        var request = Assert.Single(factory.Requests);
        Assert.Equal("cuda:1", request.Device);
        Assert.Equal(300, request.Preprocessing.MaxTokens);
        Assert.Equal(TruncationPolicy.Refuse, request.Preprocessing.Truncation);
        Assert.Equal(123456, request.Preprocessing.ImageLimits.MaxEncodedBytes);
        Assert.Equal(50176, request.Preprocessing.ImageProcessor.MaxPixels);
        Assert.Equal(3, generator.Embedder.Options.MaxBatchSize);

        var result = await generator.GenerateAsync([new TextContent("buy milk"), TestModel.CorruptImage()]);
        var direct = await new Vlm2VecEmbedder(generator.Embedder.Encoder).EmbedAsync(MultimodalInput.FromText("buy milk", "Represent the note:", EmbeddingRole.Target));
        Assert.Equal(direct, TestModel.Vector(result[0]));
        Assert.NotNull(result[1].GetVlm2VecError());
    }

    [Fact]
    public async Task Keyed_registrations_are_independent()
    {
        var services = new ServiceCollection().AddVlm2VecEncoderFactory(new TestEncoderFactory());
        var pathA = TestEncoderFactory.CreateModelFolder(_models, "model-a");
        var pathB = TestEncoderFactory.CreateModelFolder(_models, "model-b");
        services.AddKeyedVlm2VecEmbeddingGenerator("a", o => o.ModelPath = pathA);
        services.AddKeyedVlm2VecEmbeddingGenerator("b", o => o.ModelPath = pathB);
        await using var provider = services.BuildServiceProvider();

        Assert.Equal("model-a", provider.GetRequiredKeyedService<Vlm2VecEmbeddingGenerator>("a").ModelId);
        Assert.Equal("model-b", provider.GetRequiredKeyedService<IEmbeddingGenerator<AIContent, Embedding<float>>>("b").GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId);
        Assert.Equal("model-b", provider.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>("b").GetService<Vlm2VecEmbeddingGenerator>()!.ModelId);
        Assert.Null(provider.GetService<Vlm2VecEmbeddingGenerator>());
        Assert.Null(provider.GetService<IEmbeddingGenerator<AIContent, Embedding<float>>>());
    }

    [Fact]
    public async Task The_returned_builder_adds_middleware_to_every_view()
    {
        var services = new ServiceCollection()
            .AddVlm2VecEncoderFactory(new TestEncoderFactory())
            .AddSingleton<IDistributedCache>(new MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new MemoryDistributedCacheOptions())))
            .AddLogging();
        var path = TestEncoderFactory.CreateModelFolder(_models, "cached");
        services.AddVlm2VecEmbeddingGenerator(o => o.ModelPath = path).UseVlm2VecDistributedCache().UseLogging();
        await using var provider = services.BuildServiceProvider();

        var text = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var pipeline = provider.GetRequiredService<IEmbeddingGenerator<AIContent, Embedding<float>>>();
        await text.GenerateAsync(["same text"]);
        await pipeline.GenerateAsync([new TextContent("same text")]);

        Assert.IsType<Vlm2VecDistributedCachingEmbeddingGenerator>(pipeline);
        var encoder = (HashingEncoder)provider.GetRequiredService<Vlm2VecEmbeddingGenerator>().Embedder.Encoder;
        Assert.Equal(1, encoder.RowsEncoded);
    }

    [Fact]
    public async Task A_caller_encoder_is_used_and_not_disposed()
    {
        var encoder = TestModel.NewEncoder("given");
        var services = new ServiceCollection();
        services.AddVlm2VecEmbeddingGenerator(encoder, o => o.DefaultRole = EmbeddingRole.Target);
        await using (var provider = services.BuildServiceProvider())
        {
            var generator = provider.GetRequiredService<Vlm2VecEmbeddingGenerator>();
            Assert.Same(encoder, generator.Embedder.Encoder);
            await generator.GenerateAsync([new TextContent("x")]);
        }

        Assert.False(encoder.Disposed);
    }

    [Fact]
    public async Task Missing_or_unknown_engines_and_paths_fail_with_what_to_do()
    {
        var path = TestEncoderFactory.CreateModelFolder(_models, "m");
        static ServiceProvider Build(Action<IServiceCollection> setup)
        {
            var services = new ServiceCollection();
            setup(services);
            return services.BuildServiceProvider();
        }

        await using var noEngine = Build(s => s.AddVlm2VecEmbeddingGenerator(o => o.ModelPath = path));
        await using var wrongEngine = Build(s => s.AddVlm2VecEncoderFactory(new TestEncoderFactory()).AddVlm2VecEmbeddingGenerator(o => { o.ModelPath = path; o.Engine = "onnxruntime"; }));
        await using var wrongPath = Build(s => s.AddVlm2VecEncoderFactory(new TestEncoderFactory()).AddVlm2VecEmbeddingGenerator(o => o.ModelPath = _models.Combine("nothing-here")));
        await using var noPath = Build(s => s.AddVlm2VecEncoderFactory(new TestEncoderFactory()).AddVlm2VecEmbeddingGenerator());

        Assert.Contains("registered engines: none", Assert.Throws<InvalidOperationException>(() => noEngine.GetRequiredService<Vlm2VecEmbeddingGenerator>()).Message, StringComparison.Ordinal);
        var wrong = Assert.Throws<InvalidOperationException>(() => wrongEngine.GetRequiredService<IEmbeddingGenerator<AIContent, Embedding<float>>>()).Message;
        Assert.Contains("'onnxruntime' is not registered", wrong, StringComparison.Ordinal);
        Assert.Contains("hashing", wrong, StringComparison.Ordinal);
        Assert.Contains("nothing-here", Assert.Throws<InvalidOperationException>(() => wrongPath.GetRequiredService<Vlm2VecEmbeddingGenerator>()).Message, StringComparison.Ordinal);
        Assert.Contains("ModelPath", Assert.Throws<ArgumentException>(() => noPath.GetRequiredService<Vlm2VecEmbeddingGenerator>()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kernel_builder_service_id_becomes_the_key_semantic_kernel_resolves()
    {
        var path = TestEncoderFactory.CreateModelFolder(_models, "sk-model");
        var builder = Kernel.CreateBuilder();
        builder.Services.AddVlm2VecEncoderFactory(new TestEncoderFactory());
        builder.AddVlm2VecEmbeddingGenerator(path, o => o.MaxBatchSize = 2, serviceId: "vision");
        builder.AddVlm2VecEmbeddingGenerator(TestModel.NewEncoder("default-model"));
        var kernel = builder.Build();

        var keyed = kernel.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>("vision");
        var unkeyed = kernel.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        Assert.Equal("sk-model", keyed.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId);
        Assert.Equal(2, keyed.GetService<Vlm2VecEmbeddingGenerator>()!.Embedder.Options.MaxBatchSize);
        Assert.Equal("default-model", unkeyed.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId);
        Assert.Equal(HashingEncoder.Dimension, (await keyed.GenerateAsync(["hello"]))[0].Dimensions);

        var services = new ServiceCollection().AddVlm2VecEncoderFactory(new TestEncoderFactory());
        services.AddVlm2VecEmbeddingGenerator(path, serviceId: "svc");
        await using var provider = services.BuildServiceProvider();
        Assert.Equal("sk-model", provider.GetRequiredKeyedService<Vlm2VecEmbeddingGenerator>("svc").ModelId);
    }
}
