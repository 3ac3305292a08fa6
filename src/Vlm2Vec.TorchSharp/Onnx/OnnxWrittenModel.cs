namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>What <see cref="OnnxModelWriter"/> wrote.</summary>
/// <param name="ModelPath">The <c>.onnx</c> file.</param>
/// <param name="ExternalDataPath">The external data file, or <see langword="null"/> when every tensor was inline.</param>
/// <param name="ExternalTensorCount">Number of tensors stored in the external data file.</param>
internal sealed record OnnxWrittenModel(string ModelPath, string? ExternalDataPath, int ExternalTensorCount);
