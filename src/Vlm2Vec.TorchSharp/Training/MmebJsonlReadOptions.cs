namespace Vlm2Vec.TorchSharp.Training;

/// <summary>How <see cref="MmebTrainingData.ReadJsonl"/> reads an MMEB-train style file.</summary>
public sealed record MmebJsonlReadOptions
{
    /// <summary>Folder that relative image paths are resolved against (default: the file's folder).</summary>
    public string? ImageRoot { get; init; }

    /// <summary>Dataset name of rows without a <c>dataset</c> field (default: the file name without extension).</summary>
    public string? Dataset { get; init; }

    /// <summary>What to do with an unusable row (malformed JSON, empty query or positive, missing image file).</summary>
    public BadRowPolicy BadRows { get; init; } = BadRowPolicy.Skip;
}
