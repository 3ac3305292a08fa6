using Microsoft.Extensions.AI;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// Views of a Vlm2Vec generator (or of a pipeline built on one) that implement exactly one or two input types, for
/// Microsoft.Extensions.VectorData connectors, whose embedding dispatch chooses by the generator's interfaces.
/// </summary>
/// <remarks>
/// VectorData 10.11 tries <c>IEmbeddingGenerator&lt;string, …&gt;</c> first whatever a vector property's type is, so a
/// generator implementing both <c>string</c> and <see cref="AIContent"/> fails to upsert into a
/// <c>[VectorStoreVector] DataContent</c> property. Either declare the property with
/// <c>new VectorStoreVectorProperty&lt;AIContent&gt;(name, dimensions)</c> (text and images in one property; search by
/// string, <see cref="TextContent"/> or <see cref="DataContent"/>) with <see cref="AsMultimodalEmbeddingGenerator"/> or
/// the generator itself, or give a <see cref="DataContent"/> property <see cref="AsImageEmbeddingGenerator"/> and a
/// <see cref="string"/> property <see cref="AsTextEmbeddingGenerator"/>. Views do not own the generator.
/// </remarks>
public static class Vlm2VecEmbeddingGeneratorExtensions
{
    /// <summary>A view that implements only <c>IEmbeddingGenerator&lt;DataContent, Embedding&lt;float&gt;&gt;</c> (images).</summary>
    public static IEmbeddingGenerator<DataContent, Embedding<float>> AsImageEmbeddingGenerator(this IEmbeddingGenerator<AIContent, Embedding<float>> generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return new ContentEmbeddingGeneratorView<DataContent>(generator, static image => image);
    }

    /// <summary>A view that implements only <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> (text).</summary>
    public static IEmbeddingGenerator<string, Embedding<float>> AsTextEmbeddingGenerator(this IEmbeddingGenerator<AIContent, Embedding<float>> generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return new ContentEmbeddingGeneratorView<string>(generator, static text => new TextContent(text));
    }

    /// <summary>
    /// A view that implements <c>IEmbeddingGenerator&lt;AIContent, …&gt;</c> and <c>&lt;string, …&gt;</c> over an
    /// <see cref="AIContent"/> pipeline (strings become <see cref="TextContent"/> and go through the same middleware):
    /// the generator for <c>VectorStoreVectorProperty&lt;AIContent&gt;</c> properties searched by string, and for
    /// Semantic Kernel's text search.
    /// </summary>
    /// <returns>The view, as its <see cref="AIContent"/> interface (cast it, or resolve <c>IEmbeddingGenerator&lt;string, …&gt;</c>, for strings).</returns>
    public static IEmbeddingGenerator<AIContent, Embedding<float>> AsMultimodalEmbeddingGenerator(this IEmbeddingGenerator<AIContent, Embedding<float>> generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return generator is IEmbeddingGenerator<string, Embedding<float>> ? generator : new MultimodalEmbeddingGeneratorView(generator);
    }
}
