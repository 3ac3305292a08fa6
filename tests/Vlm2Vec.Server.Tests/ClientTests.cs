using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI;
using Vlm2Vec.Server.Tests.Fakes;

namespace Vlm2Vec.Server.Tests;

/// <summary>
/// Real clients against the real server: Microsoft.Extensions.AI.OpenAI's embedding generator (which sends
/// <c>encoding_format: base64</c>), and Semantic Kernel's OpenAI connector both as the text-embedding service Kernel
/// Memory's OpenAI generator wraps and as the kernel builder's <c>IEmbeddingGenerator</c>.
/// </summary>
public sealed class ClientTests : IAsyncLifetime
{
    private const string Key = "sk-test-key-0123456789";
    private readonly RecordingHandler _wire = new();
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o => o with { ApiKeys = [Key] });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _wire.Dispose();
    }

    private OpenAIClient Client(string key = Key) => new(
        new ApiKeyCredential(key),
        new OpenAIClientOptions
        {
            Endpoint = _server.V1,
            Transport = new HttpClientPipelineTransport(new HttpClient(_wire, disposeHandler: false)),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

    [Fact]
    public async Task Meai_embedding_generator_gets_the_right_vectors_over_base64()
    {
        using var generator = Client().GetEmbeddingClient(TestModel.Name).AsIEmbeddingGenerator();
        string[] texts = ["a photo of a cat", "a photo of a dog", "an accordion"];

        var embeddings = await generator.GenerateAsync(texts);

        Assert.Equal(3, embeddings.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(TestModel.Expected(MultimodalInput.FromText(texts[i])), embeddings[i].Vector.ToArray());
            Assert.Equal(TestModel.Name, embeddings[i].ModelId);
        }

        Assert.Equal(texts.Sum(t => TestModel.Tokens(MultimodalInput.FromText(t))), embeddings.Usage!.InputTokenCount);
        var (path, body, authorization) = Assert.Single(_wire.Requests);
        Assert.Equal("/v1/embeddings", path);
        Assert.Contains("\"encoding_format\":\"base64\"", body, StringComparison.Ordinal);
        Assert.Equal($"Bearer {Key}", authorization);
    }

    [Fact]
    public async Task Meai_generator_with_the_model_dimension_works_and_a_wrong_key_fails_with_401()
    {
        using var generator = Client().GetEmbeddingClient(TestModel.Name).AsIEmbeddingGenerator(defaultModelDimensions: TestModel.Dimension);
        var vector = await generator.GenerateVectorAsync("dimensions sent");
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("dimensions sent")), vector.ToArray());
        Assert.Contains($"\"dimensions\":{TestModel.Dimension}", _wire.Requests.Last().Body, StringComparison.Ordinal);

        using var wrong = Client("sk-wrong-key-0000000000").GetEmbeddingClient(TestModel.Name).AsIEmbeddingGenerator();
        var error = await Assert.ThrowsAsync<ClientResultException>(() => wrong.GenerateAsync(["x"]));
        Assert.Equal(401, error.Status);
    }

    [Fact]
    public async Task Sk_text_embedding_service_used_by_kernel_memory_gets_the_right_vectors()
    {
        // Kernel Memory's OpenAITextEmbeddingGenerator wraps exactly this service (model, OpenAIClient, dimensions).
        var service = new OpenAITextEmbeddingGenerationService(TestModel.Name, Client(), loggerFactory: null, dimensions: null);
        string[] chunks = ["Kernel Memory chunk one.", "Chunk two, a little longer than the first one."];

        var vectors = await service.GenerateEmbeddingsAsync(chunks);

        Assert.Equal(2, vectors.Count);
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText(chunks[0])), vectors[0].ToArray());
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText(chunks[1])), vectors[1].ToArray());
    }

    [Fact]
    public async Task Sk_kernel_embedding_generator_gets_the_right_vectors_and_unsupported_dimensions_fail_with_400()
    {
        var kernel = Kernel.CreateBuilder().AddOpenAIEmbeddingGenerator(TestModel.Name, Client()).Build();
        var generator = kernel.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();

        var embeddings = await generator.GenerateAsync(["semantic kernel"]);
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("semantic kernel")), embeddings[0].Vector.ToArray());

        var shortened = Kernel.CreateBuilder().AddOpenAIEmbeddingGenerator(TestModel.Name, Client(), dimensions: 16).Build()
            .GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var error = await Assert.ThrowsAsync<ClientResultException>(() => shortened.GenerateAsync(["x"]));
        Assert.Equal(400, error.Status);
        Assert.Contains("unsupported_dimensions", error.Message + error.GetRawResponse()?.Content.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_model_name_reaches_the_client_as_404()
    {
        using var generator = Client().GetEmbeddingClient("text-embedding-ada-002").AsIEmbeddingGenerator();
        var error = await Assert.ThrowsAsync<ClientResultException>(() => generator.GenerateAsync(["x"]));
        Assert.Equal(404, error.Status);
    }
}
