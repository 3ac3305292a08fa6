using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// Calls an embedding generator with the input type that matches the <b>runtime</b> type of the values, instead of
/// MEVD 10.11's dispatcher, which tests the generator for <c>IEmbeddingGenerator&lt;string,…&gt;</c> first whatever
/// the property type is: with a generator that implements both <c>&lt;string,…&gt;</c> and <c>&lt;AIContent,…&gt;</c>
/// (like Vlm2VecEmbeddingGenerator), upserting <see cref="DataContent"/> values through MEVD's dispatcher throws.
/// <para>
/// Resolution, for the most derived type <c>T</c> common to a batch: the first of <c>T</c>, its base types and its
/// interfaces for which the generator is an <c>IEmbeddingGenerator&lt;X, Embedding&lt;float&gt;&gt;</c> (contravariance
/// included, so an <c>&lt;AIContent,…&gt;</c> generator serves <see cref="DataContent"/> and <see cref="TextContent"/>).
/// A <see cref="string"/> with no <c>&lt;string,…&gt;</c> interface is wrapped in a <see cref="TextContent"/>. (Model
/// validation guarantees the generator accepts the property's declared input type, which every value of the batch
/// has, so one call per batch always exists.)
/// </para>
/// </summary>
internal static class EmbeddingDispatcher
{
    private static readonly MethodInfo GenerateTypedMethod =
        typeof(EmbeddingDispatcher).GetMethod(nameof(GenerateTypedAsync), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static readonly ConcurrentDictionary<Type, Func<IEmbeddingGenerator, object[], CancellationToken, Task<GeneratedEmbeddings<Embedding<float>>>>> Invokers = new();

    /// <summary>
    /// Embeds <paramref name="values"/> (nulls allowed: they get no vector) for <paramref name="property"/> in one
    /// generator call. Each vector is checked against the property's dimensions.
    /// </summary>
    /// <exception cref="InvalidOperationException">The generator does not accept the values' type, returns the wrong count, or a vector of the wrong size.</exception>
    public static async Task<ReadOnlyMemory<float>[]> GenerateAsync(
        VectorPropertyModel property, IReadOnlyList<object?> values, CancellationToken cancellationToken)
    {
        var generator = property.EmbeddingGenerator
            ?? throw new InvalidOperationException($"Vector property '{property.ModelName}' has no embedding generator.");
        var result = new ReadOnlyMemory<float>[values.Count];
        var positions = new List<int>(values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] is not null)
            {
                positions.Add(i);
            }
        }

        if (positions.Count == 0)
        {
            return result;
        }

        var common = CommonType(values, positions);
        var plan = Resolve(generator, common)
            ?? throw new InvalidOperationException(VectorDataStrings.IncompatibleEmbeddingGeneratorWasConfiguredForInputType(common, generator.GetType()));
        await RunAsync(property, generator, plan, values, positions, result, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Embeds one search value for <paramref name="property"/>.</summary>
    /// <exception cref="InvalidOperationException">The generator does not accept <paramref name="value"/>'s type.</exception>
    public static async Task<ReadOnlyMemory<float>> GenerateSearchVectorAsync(
        VectorPropertyModel property, IEmbeddingGenerator generator, object value, Type declaredInputType, CancellationToken cancellationToken)
    {
        var plan = Resolve(generator, value.GetType())
            ?? throw new InvalidOperationException(VectorDataStrings.IncompatibleEmbeddingGeneratorWasConfiguredForInputType(declaredInputType, generator.GetType()));
        var result = new ReadOnlyMemory<float>[1];
        await RunAsync(property, generator, plan, [value], [0], result, cancellationToken).ConfigureAwait(false);
        return result[0];
    }

    /// <summary>Whether the generator can embed values of <paramref name="valueType"/> (see the type's remarks).</summary>
    public static bool CanEmbed(IEmbeddingGenerator generator, Type valueType) => Resolve(generator, valueType) is not null;

    private static async Task RunAsync(
        VectorPropertyModel property,
        IEmbeddingGenerator generator,
        Plan plan,
        IReadOnlyList<object?> values,
        IReadOnlyList<int> positions,
        ReadOnlyMemory<float>[] result,
        CancellationToken cancellationToken)
    {
        var inputs = new object[positions.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var value = values[positions[i]]!;
            inputs[i] = plan.WrapStringAsText ? new TextContent((string)value) : value;
        }

        var invoker = Invokers.GetOrAdd(plan.InputType, static type =>
            GenerateTypedMethod.MakeGenericMethod(type).CreateDelegate<Func<IEmbeddingGenerator, object[], CancellationToken, Task<GeneratedEmbeddings<Embedding<float>>>>>());
        var embeddings = await invoker(generator, inputs, cancellationToken).ConfigureAwait(false);
        if (embeddings.Count != inputs.Length)
        {
            throw new InvalidOperationException(
                $"The embedding generator '{generator.GetType().Name}' of vector property '{property.ModelName}' returned {embeddings.Count} embeddings for {inputs.Length} inputs.");
        }

        for (var i = 0; i < inputs.Length; i++)
        {
            var vector = embeddings[i].Vector;
            if (vector.Length != property.Dimensions)
            {
                throw new InvalidOperationException(
                    $"The embedding generator '{generator.GetType().Name}' of vector property '{property.ModelName}' returned a {vector.Length}-dimensional vector " +
                    $"for input {positions[i]}; the property declares {property.Dimensions} dimensions.");
            }

            result[positions[i]] = vector;
        }
    }

    private static Task<GeneratedEmbeddings<Embedding<float>>> GenerateTypedAsync<TInput>(IEmbeddingGenerator generator, object[] inputs, CancellationToken cancellationToken)
    {
        var typed = new TInput[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            typed[i] = (TInput)inputs[i];
        }

        return ((IEmbeddingGenerator<TInput, Embedding<float>>)generator).GenerateAsync(typed, options: null, cancellationToken);
    }

    private static Type CommonType(IReadOnlyList<object?> values, List<int> positions)
    {
        var common = values[positions[0]]!.GetType();
        foreach (var position in positions)
        {
            while (!common.IsInstanceOfType(values[position]))
            {
                common = common.BaseType ?? typeof(object);
            }
        }

        return common;
    }

    private static Plan? Resolve(IEmbeddingGenerator generator, Type valueType)
    {
        for (var type = valueType; type is not null; type = type.BaseType)
        {
            if (Accepts(generator, type))
            {
                return new Plan(type, WrapStringAsText: false);
            }
        }

        foreach (var contract in valueType.GetInterfaces())
        {
            if (Accepts(generator, contract))
            {
                return new Plan(contract, WrapStringAsText: false);
            }
        }

        return valueType == typeof(string) && Resolve(generator, typeof(TextContent)) is { } text
            ? text with { WrapStringAsText = true }
            : null;
    }

    private static bool Accepts(IEmbeddingGenerator generator, Type inputType) =>
        typeof(IEmbeddingGenerator<,>).MakeGenericType(inputType, typeof(Embedding<float>)).IsInstanceOfType(generator);

    /// <summary>How to call the generator: as <c>IEmbeddingGenerator&lt;InputType, Embedding&lt;float&gt;&gt;</c>, wrapping strings when asked.</summary>
    private readonly record struct Plan(Type InputType, bool WrapStringAsText);
}
