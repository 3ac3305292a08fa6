namespace Vlm2Vec;

/// <summary>One ONNX graph of a model bundle: its role, files and interface.</summary>
public sealed record Vlm2VecBundleGraph
{
    /// <summary>Role of the vision graph: image patches → image features (<see cref="Vlm2VecBundleTensorNames"/>).</summary>
    public const string VisionRole = "vision";

    /// <summary>Role of the text graph: token ids, masks, positions and image features → pooled embeddings.</summary>
    public const string TextRole = "text";

    /// <summary><see cref="VisionRole"/> or <see cref="TextRole"/>.</summary>
    public required string Role { get; init; }

    /// <summary>The <c>.onnx</c> file, relative to the bundle folder.</summary>
    public required string File { get; init; }

    /// <summary>The external weight data file next to it, or <see langword="null"/> when every tensor is inline.</summary>
    public string? DataFile { get; init; }

    /// <summary>The graph inputs, in order.</summary>
    public required IReadOnlyList<Vlm2VecBundleTensor> Inputs { get; init; }

    /// <summary>The graph outputs, in order.</summary>
    public required IReadOnlyList<Vlm2VecBundleTensor> Outputs { get; init; }

    /// <summary>The input called <paramref name="name"/>, or <see langword="null"/>.</summary>
    public Vlm2VecBundleTensor? FindInput(string name) => Find(Inputs, name);

    /// <summary>The output called <paramref name="name"/>, or <see langword="null"/>.</summary>
    public Vlm2VecBundleTensor? FindOutput(string name) => Find(Outputs, name);

    private static Vlm2VecBundleTensor? Find(IReadOnlyList<Vlm2VecBundleTensor> tensors, string name)
    {
        foreach (var tensor in tensors)
        {
            if (string.Equals(tensor.Name, name, StringComparison.Ordinal))
            {
                return tensor;
            }
        }

        return null;
    }
}
