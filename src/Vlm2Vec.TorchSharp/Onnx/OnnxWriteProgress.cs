namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>Progress of <see cref="OnnxModelWriter"/>: reported after each tensor and inside large ones.</summary>
/// <param name="TensorName">The initializer being written.</param>
/// <param name="TensorIndex">Its index (0-based) among <paramref name="TensorCount"/> initializers.</param>
/// <param name="TensorCount">Number of initializers.</param>
/// <param name="BytesWritten">Initializer bytes written so far (inline and external).</param>
/// <param name="TotalBytes">Initializer bytes to write in all.</param>
internal readonly record struct OnnxWriteProgress(string TensorName, int TensorIndex, int TensorCount, long BytesWritten, long TotalBytes)
{
    /// <summary>Fraction done, 0..1.</summary>
    public double Fraction => TotalBytes == 0 ? 1 : (double)BytesWritten / TotalBytes;
}
