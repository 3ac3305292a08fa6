namespace Vlm2Vec.Cli.Search;

/// <summary>
/// The one record of a collection's companion <c>{collection}__index</c> collection: which model built the collection,
/// so that a search or a re-index with another model is refused instead of comparing incomparable vectors.
/// </summary>
internal sealed class IndexManifest
{
    /// <summary>The manifest's key (always <see cref="VectorIndex.ManifestKey"/>).</summary>
    public string Key { get; set; } = VectorIndex.ManifestKey;

    /// <summary>The model id of the encoder that built the collection.</summary>
    public string ModelId { get; set; } = string.Empty;

    /// <summary>The embedding dimension.</summary>
    public int Dimension { get; set; }

    /// <summary>The source folder last indexed (absolute).</summary>
    public string SourceFolder { get; set; } = string.Empty;

    /// <summary>When the collection was last updated (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; set; }
}
