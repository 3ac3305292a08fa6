namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>Progress of a checkpoint load, reported after every tensor.</summary>
/// <param name="FileIndex">Zero-based index of the weight file being read.</param>
/// <param name="FileCount">Number of weight files to read.</param>
/// <param name="FilePath">The weight file being read.</param>
/// <param name="TensorsLoaded">Tensors loaded so far (all files).</param>
/// <param name="BytesLoaded">Tensor bytes read so far (all files).</param>
/// <param name="TotalBytes">Size of all weight files together (an upper bound of <paramref name="BytesLoaded"/>).</param>
public readonly record struct CheckpointLoadProgress(int FileIndex, int FileCount, string FilePath, int TensorsLoaded, long BytesLoaded, long TotalBytes)
{
    /// <summary>Fraction done, between 0 and 1.</summary>
    public double Fraction => TotalBytes <= 0 ? 1 : Math.Min(1, (double)BytesLoaded / TotalBytes);
}
