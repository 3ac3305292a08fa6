using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>Deterministic vectors for tests: bag-of-words hashing, so texts sharing words are close.</summary>
internal static class FakeVectors
{
    /// <summary>An L2-normalised bag-of-words vector: each lower-cased word adds 1 at a hash-chosen component.</summary>
    public static float[] BagOfWords(string text, int dimensions)
    {
        var vector = new float[dimensions];
        foreach (var word in text.ToLowerInvariant().Split([' ', ',', '.', '!', '?', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(word));
            vector[BitConverter.ToUInt32(hash, 0) % (uint)dimensions] += 1f;
        }

        return Normalise(vector);
    }

    /// <summary>An L2-normalised vector drawn from the bytes' hash (unrelated bytes give unrelated vectors).</summary>
    public static float[] FromBytes(ReadOnlySpan<byte> bytes, int dimensions)
    {
        var seed = BitConverter.ToInt32(SHA256.HashData(bytes), 0);
        var random = new Random(seed);
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return Normalise(vector);
    }

    public static float[] Normalise(float[] vector)
    {
        var norm = System.Numerics.Tensors.TensorPrimitives.Norm(vector);
        if (norm > 0)
        {
            System.Numerics.Tensors.TensorPrimitives.Divide(vector, norm, vector);
        }

        return vector;
    }

    /// <summary>A fake "image": PNG media type, bytes that spell <c>image: {caption}</c> so content generators can read the caption back.</summary>
    public static DataContent Image(string caption) => new(Encoding.UTF8.GetBytes("image: " + caption), "image/png");

    /// <summary>The caption of a <see cref="Image"/>, or null when the bytes are not one.</summary>
    public static string? CaptionOf(DataContent content)
    {
        var text = Encoding.UTF8.GetString(content.Data.Span);
        return text.StartsWith("image: ", StringComparison.Ordinal) ? text["image: ".Length..] : null;
    }
}

/// <summary>
/// The conformance suite's fake: parses "[1, 1, 0]" into a vector and optionally replaces the last component, so tests
/// can tell which of several generators embedded a value.
/// </summary>
internal sealed class BracketVectorGenerator(int? replaceLast = null) : IEmbeddingGenerator<string, Embedding<float>>
{
    public int Calls { get; private set; }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            var vector = value.Trim('[', ']').Split(',').Select(s => float.Parse(s.Trim(), CultureInfo.InvariantCulture)).ToArray();
            if (replaceLast is { } last)
            {
                vector[^1] = last;
            }

            result.Add(new Embedding<float>(vector));
        }

        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

/// <summary>Text-only generator: bag-of-words vectors of <c>dimensions</c>.</summary>
internal sealed class HashingTextGenerator(int dimensions) : IEmbeddingGenerator<string, Embedding<float>>
{
    public ConcurrentQueue<int> BatchSizes { get; } = new();

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>(values.Select(v => new Embedding<float>(FakeVectors.BagOfWords(v, dimensions))));
        BatchSizes.Enqueue(result.Count);
        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>
/// Content-only generator (<c>IEmbeddingGenerator&lt;AIContent, …&gt;</c>, like an image view of a multimodal model):
/// a <see cref="TextContent"/> embeds its words, a fake <see cref="FakeVectors.Image"/> embeds its caption's words (so
/// text finds images), any other <see cref="DataContent"/> its bytes' hash. Every call records the runtime types seen.
/// </summary>
internal class HashingContentGenerator(int dimensions) : IEmbeddingGenerator<AIContent, Embedding<float>>
{
    public int Dimensions => dimensions;

    public ConcurrentQueue<string> Calls { get; } = new();

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<AIContent> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = values.ToList();
        Calls.Enqueue("AIContent:" + string.Join(",", list.Select(v => v.GetType().Name)));
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(list.Select(v => new Embedding<float>(Embed(v)))));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    protected float[] Embed(AIContent content) => content switch
    {
        TextContent text => FakeVectors.BagOfWords(text.Text, dimensions),
        DataContent data when FakeVectors.CaptionOf(data) is { } caption => FakeVectors.BagOfWords(caption, dimensions),
        DataContent data => FakeVectors.FromBytes(data.Data.Span, dimensions),
        _ => throw new NotSupportedException($"Content of type {content.GetType().Name} is not supported."),
    };
}

/// <summary>
/// Implements both <c>IEmbeddingGenerator&lt;string, …&gt;</c> and <c>IEmbeddingGenerator&lt;AIContent, …&gt;</c>, as
/// Vlm2VecEmbeddingGenerator will: the shape that breaks MEVD 10.11's own dispatch (§3.3 V1). Records which interface
/// each call came through.
/// </summary>
internal sealed class DualInterfaceGenerator(int dimensions) : HashingContentGenerator(dimensions), IEmbeddingGenerator<string, Embedding<float>>
{
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = values.ToList();
        Calls.Enqueue($"string:{list.Count}");
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(list.Select(v => new Embedding<float>(Embed(new TextContent(v))))));
    }
}

/// <summary>A custom input type for <c>VectorStoreVectorProperty&lt;TInput&gt;</c>.</summary>
public sealed class Customer
{
    public string? FirstName { get; set; }

    public string? LastName { get; set; }
}

/// <summary>Embeds <see cref="Customer"/> values as the bag of words of their names.</summary>
internal sealed class CustomerGenerator(int dimensions) : IEmbeddingGenerator<Customer, Embedding<float>>
{
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<Customer> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(c => new Embedding<float>(FakeVectors.BagOfWords($"{c.FirstName} {c.LastName}", dimensions)))));

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
