namespace Vlm2Vec.Preprocessing;

/// <summary>
/// One image after the Qwen2-VL image processor: flattened patches in the reference order and the patch grid.
/// </summary>
public sealed class ProcessedImage
{
    /// <summary>Creates a processed image; <paramref name="pixelValues"/> must hold <c>t·h·w</c> rows of <paramref name="patchRowLength"/>.</summary>
    public ProcessedImage(float[] pixelValues, int gridT, int gridH, int gridW, int patchRowLength)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        if (gridT <= 0 || gridH <= 0 || gridW <= 0 || patchRowLength <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(gridT), $"Grid ({gridT}, {gridH}, {gridW}) and row length {patchRowLength} must be positive.");
        }

        if (pixelValues.Length != (long)gridT * gridH * gridW * patchRowLength)
        {
            throw new ArgumentException(
                $"pixelValues has {pixelValues.Length} values; grid ({gridT}, {gridH}, {gridW}) × {patchRowLength} needs {(long)gridT * gridH * gridW * patchRowLength}.",
                nameof(pixelValues));
        }

        PixelValues = pixelValues;
        GridT = gridT;
        GridH = gridH;
        GridW = gridW;
        PatchRowLength = patchRowLength;
    }

    /// <summary>Patch rows, row-major <c>(PatchCount, PatchRowLength)</c>, normalised float32.</summary>
    public float[] PixelValues { get; }

    /// <summary>Temporal grid (1 for a still image).</summary>
    public int GridT { get; }

    /// <summary>Patch rows of the grid (resized height / patch size).</summary>
    public int GridH { get; }

    /// <summary>Patch columns of the grid (resized width / patch size).</summary>
    public int GridW { get; }

    /// <summary>Values per patch row (3·2·14·14 = 1176 for Qwen2-VL).</summary>
    public int PatchRowLength { get; }

    /// <summary>Number of patch rows, <c>t·h·w</c>.</summary>
    public int PatchCount => GridT * GridH * GridW;

    /// <summary>Number of image tokens after merging <paramref name="mergeSize"/>² patches: <c>t·h·w / merge²</c>.</summary>
    public int TokenCount(int mergeSize) => PatchCount / (mergeSize * mergeSize);
}
