using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;

namespace Vlm2Vec.Extensions.AI.SemanticKernel;

/// <summary>
/// One memory of <see cref="MultimodalMemoryPlugin"/>: a note or an image, its source reference and metadata, and the
/// content its vector is generated from. Declare the collection with <see cref="CreateDefinition"/>: the
/// <see cref="Content"/> vector property is an <see cref="AIContent"/> (text and images in one property), which
/// VectorData supports only through a definition.
/// </summary>
public sealed class MultimodalMemoryRecord
{
    /// <summary><see cref="Kind"/> of a note.</summary>
    public const string TextKind = "text";

    /// <summary><see cref="Kind"/> of an image.</summary>
    public const string ImageKind = "image";

    /// <summary>The key (a GUID in <c>N</c> format unless the caller chose one).</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary><see cref="TextKind"/> or <see cref="ImageKind"/>.</summary>
    public string Kind { get; set; } = TextKind;

    /// <summary>The note's text, or the image's description (null when none was given).</summary>
    public string? Text { get; set; }

    /// <summary>Where it came from (file path, URL, document title), for citations.</summary>
    public string? Source { get; set; }

    /// <summary>The image's media type (null for notes).</summary>
    public string? MediaType { get; set; }

    /// <summary>Caller metadata as a JSON object of strings (null when none).</summary>
    public string? MetadataJson { get; set; }

    /// <summary>When it was stored (ISO 8601, UTC).</summary>
    public string? CreatedAt { get; set; }

    /// <summary>
    /// What the vector is generated from on upsert (a <see cref="Vlm2VecContent"/> on the target side). Stores keep only
    /// the vector, so this is null on records read back.
    /// </summary>
    public AIContent? Content { get; set; }

    /// <summary>
    /// The collection definition: <see cref="Id"/> key, indexed <see cref="Kind"/> and <see cref="Source"/>, the other
    /// data properties, and <see cref="Content"/> as a <c>VectorStoreVectorProperty&lt;AIContent&gt;</c> with cosine
    /// similarity and <paramref name="embeddingGenerator"/>.
    /// </summary>
    /// <param name="embeddingGenerator">An <see cref="AIContent"/> generator (a Vlm2Vec generator, or a pipeline over one).</param>
    /// <param name="dimensions">The vector size (the model's dimension).</param>
    public static VectorStoreCollectionDefinition CreateDefinition(IEmbeddingGenerator<AIContent, Embedding<float>> embeddingGenerator, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(embeddingGenerator);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        return new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(Id), typeof(string)),
                new VectorStoreDataProperty(nameof(Kind), typeof(string)) { IsIndexed = true },
                new VectorStoreDataProperty(nameof(Text), typeof(string)),
                new VectorStoreDataProperty(nameof(Source), typeof(string)) { IsIndexed = true },
                new VectorStoreDataProperty(nameof(MediaType), typeof(string)),
                new VectorStoreDataProperty(nameof(MetadataJson), typeof(string)),
                new VectorStoreDataProperty(nameof(CreatedAt), typeof(string)),
                new VectorStoreVectorProperty<AIContent>(nameof(Content), dimensions)
                {
                    DistanceFunction = DistanceFunction.CosineSimilarity,
                    EmbeddingGenerator = embeddingGenerator.AsMultimodalEmbeddingGenerator(),
                },
            ],
        };
    }
}
