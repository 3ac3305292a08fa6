namespace Vlm2Vec.Preprocessing;

/// <summary>
/// One input ready for collation: token ids with every image placeholder already expanded to its image's token count,
/// and the processed images in placeholder order.
/// </summary>
public sealed class PreparedInput
{
    /// <summary>Creates a prepared input.</summary>
    public PreparedInput(int[] inputIds, IReadOnlyList<ProcessedImage> images, string prompt, bool truncated = false)
    {
        InputIds = inputIds ?? throw new ArgumentNullException(nameof(inputIds));
        Images = images ?? throw new ArgumentNullException(nameof(images));
        Prompt = prompt ?? throw new ArgumentNullException(nameof(prompt));
        Truncated = truncated;
    }

    /// <summary>Token ids (no padding).</summary>
    public int[] InputIds { get; }

    /// <summary>The processed images; their features replace the image-token positions in order.</summary>
    public IReadOnlyList<ProcessedImage> Images { get; }

    /// <summary>The prompt string before placeholder expansion (for logging and reports).</summary>
    public string Prompt { get; }

    /// <summary>Whether text was cut to respect the length limit.</summary>
    public bool Truncated { get; }

    /// <summary>Sequence length.</summary>
    public int Length => InputIds.Length;

    /// <summary>Total patch rows over the images.</summary>
    public int PatchCount
    {
        get
        {
            var total = 0;
            foreach (var image in Images)
            {
                total += image.PatchCount;
            }

            return total;
        }
    }
}
