using Microsoft.Extensions.AI;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// An <c>IEmbeddingGenerator&lt;AIContent, …&gt;</c> pipeline that also takes strings (as <see cref="TextContent"/>),
/// so that string search and string vector properties go through the same middleware. It does not own the pipeline.
/// </summary>
internal sealed class MultimodalEmbeddingGeneratorView : IEmbeddingGenerator<AIContent, Embedding<float>>, IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly IEmbeddingGenerator<AIContent, Embedding<float>> _inner;

    public MultimodalEmbeddingGeneratorView(IEmbeddingGenerator<AIContent, Embedding<float>> inner)
    {
        _inner = inner;
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<AIContent> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        _inner.GenerateAsync(values, options, cancellationToken);

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var contents = new List<AIContent>();
        foreach (var value in values)
        {
            contents.Add(new TextContent(value));
        }

        return _inner.GenerateAsync(contents, options, cancellationToken);
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : _inner.GetService(serviceType, serviceKey);
    }

    public void Dispose()
    {
        // A view: the pipeline belongs to whoever built it.
    }
}
