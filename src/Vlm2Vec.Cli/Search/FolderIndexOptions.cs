namespace Vlm2Vec.Cli.Search;

/// <summary>What <see cref="FolderIndexer"/> indexes and how each file becomes an input.</summary>
internal sealed class FolderIndexOptions
{
    /// <summary>The folder to index, recursively.</summary>
    public required string SourceFolder { get; init; }

    /// <summary>Whether .txt and .md files are indexed (the demo indexes images only).</summary>
    public bool IncludeTextFiles { get; init; } = true;

    /// <summary>The progress bar's label (default: <c>indexing N file(s)</c>).</summary>
    public string? ProgressLabel { get; init; }

    /// <summary>Files per encoder call and per store write.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>
    /// The instruction (or verbatim prompt) stored with each item; a file indexed with another one is embedded again.
    /// </summary>
    public string Instruction { get; init; } = string.Empty;

    /// <summary>The input for an image file (its encoded bytes).</summary>
    public required Func<SourceFile, ReadOnlyMemory<byte>, MultimodalInput> ImageInput { get; init; }

    /// <summary>The input for a text file (its content).</summary>
    public required Func<SourceFile, string, MultimodalInput> TextInput { get; init; }
}
