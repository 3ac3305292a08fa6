using Microsoft.Extensions.AI;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// An <c>IEmbeddingGenerator&lt;TInput, Embedding&lt;float&gt;&gt;</c> that forwards to an
/// <c>IEmbeddingGenerator&lt;AIContent, Embedding&lt;float&gt;&gt;</c> (a Vlm2Vec generator or a pipeline built on one),
/// implementing only the one input type so that VectorData's dispatch picks it. It does not own the inner generator.
/// </summary>
internal sealed class ContentEmbeddingGeneratorView<TInput> : IEmbeddingGenerator<TInput, Embedding<float>>
{
    private readonly IEmbeddingGenerator<AIContent, Embedding<float>> _inner;
    private readonly Func<TInput, AIContent> _convert;

    public ContentEmbeddingGeneratorView(IEmbeddingGenerator<AIContent, Embedding<float>> inner, Func<TInput, AIContent> convert)
    {
        _inner = inner;
        _convert = convert;
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<TInput> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var contents = new List<AIContent>();
        foreach (var value in values)
        {
            contents.Add(_convert(value));
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
        // A view: the inner generator belongs to whoever created it.
    }
}
