namespace Vlm2Vec.Cli.Search;

/// <summary>What one <see cref="FolderIndexer"/> run did.</summary>
internal sealed class IndexSummary
{
    /// <summary>Files found (images and text files).</summary>
    public int Found { get; set; }

    /// <summary>Files embedded and stored for the first time.</summary>
    public int Added { get; set; }

    /// <summary>Files embedded again because their content or instruction changed.</summary>
    public int Updated { get; set; }

    /// <summary>Files skipped because their content hash and instruction are unchanged.</summary>
    public int Unchanged { get; set; }

    /// <summary>Entries removed because their file is gone (or now fails).</summary>
    public int Removed { get; set; }

    /// <summary>Files that could not be indexed.</summary>
    public List<IndexFailure> Failures { get; } = [];

    /// <summary>Files embedded in this run.</summary>
    public int Indexed => Added + Updated;
}
