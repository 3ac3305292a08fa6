namespace Vlm2Vec.Cli.Search;

/// <summary>
/// One indexed file in a <c>vlm2vec index</c> collection: keyed by its path relative to the source folder, with what
/// search shows (path, kind, preview) and what the incremental re-run compares (content hash, model, instruction).
/// </summary>
internal sealed class IndexedItem
{
    /// <summary>The file's path relative to the indexed folder, with '/' separators.</summary>
    public string Key { get; set; } = string.Empty;

    /// <summary>The file's absolute path when it was indexed (search's HTML gallery inlines images from it).</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary><see cref="SourceFileKind.Image"/> or <see cref="SourceFileKind.Text"/>, as a word.</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>A short preview: the start of a text file, or the size of an image file.</summary>
    public string Preview { get; set; } = string.Empty;

    /// <summary>The id of the model that embedded the file.</summary>
    public string ModelId { get; set; } = string.Empty;

    /// <summary>The instruction (or verbatim prompt) the file was embedded with; empty for none.</summary>
    public string Instruction { get; set; } = string.Empty;

    /// <summary>The SHA-256 of the file's bytes (lower-case hex).</summary>
    public string ContentHash { get; set; } = string.Empty;

    /// <summary>The embedding (target side), L2-normalised.</summary>
    public ReadOnlyMemory<float> Vector { get; set; }
}
