namespace Vlm2Vec.TorchSharp.Export;

/// <summary>Progress of an export: the stage, what is being processed, and how far the stage has got.</summary>
/// <param name="Stage">The current stage.</param>
/// <param name="Item">The tensor or file being processed, when there is one.</param>
/// <param name="Done">Bytes (or items) of the stage done so far.</param>
/// <param name="Total">Bytes (or items) of the stage in all; 0 when unknown.</param>
public readonly record struct Vlm2VecExportProgress(Vlm2VecExportStage Stage, string? Item, long Done, long Total)
{
    /// <summary>Fraction of the stage done, 0..1.</summary>
    public double Fraction => Total <= 0 ? 0 : Math.Min(1, (double)Done / Total);
}
