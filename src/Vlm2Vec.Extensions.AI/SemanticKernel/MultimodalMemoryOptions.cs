namespace Vlm2Vec.Extensions.AI.SemanticKernel;

/// <summary>Settings of <see cref="MultimodalMemoryPlugin"/>.</summary>
public sealed class MultimodalMemoryOptions
{
    /// <summary>The collection's name when the plugin is registered through dependency injection (default <c>multimodal_memory</c>).</summary>
    public string CollectionName { get; set; } = "multimodal_memory";

    /// <summary>
    /// Folders whose image files the plugin may read (an image argument that is a path must resolve inside one; relative
    /// paths resolve against the first). Empty (default): file paths are refused and only data URIs (and http(s) URLs,
    /// when the generator allows remote images) are accepted, because an agent's arguments must not reach arbitrary files.
    /// </summary>
    public IList<string> AllowedImageFolders { get; set; } = [];

    /// <summary>Results returned when the agent does not say (default 5).</summary>
    public int DefaultTop { get; set; } = 5;

    /// <summary>Most results one search returns (default 20).</summary>
    public int MaxTop { get; set; } = 20;

    /// <summary>Results under this cosine similarity are dropped; null (default) keeps all.</summary>
    public double? MinScore { get; set; }
}
