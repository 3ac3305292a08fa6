namespace Vlm2Vec.OnnxRuntime;

/// <summary>One vision-graph run: consecutive images of one patch grid.</summary>
internal sealed class VisionRun
{
    /// <summary>Index of the run's first image in the batch.</summary>
    public required int FirstImage { get; init; }

    /// <summary>Images in the run.</summary>
    public required int ImageCount { get; set; }

    /// <summary>Temporal slices in the run (Σ t): the graph's first dimension.</summary>
    public required int Slices { get; set; }

    /// <summary>Patch rows of the grid.</summary>
    public required int GridH { get; init; }

    /// <summary>Patch columns of the grid.</summary>
    public required int GridW { get; init; }

    /// <summary>Offset of the run's first pixel value in the batch's pixel array.</summary>
    public required long PixelOffset { get; init; }

    /// <summary>Row of the run's first image feature among the batch's feature rows.</summary>
    public required int FeatureRowOffset { get; init; }

    /// <summary>Patches of one slice (the graph's second dimension).</summary>
    public int PatchesPerSlice => GridH * GridW;
}
