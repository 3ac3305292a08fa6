using Vlm2Vec.Preprocessing;

namespace Vlm2Vec;

/// <summary>
/// A VLM2Vec model that turns a collated batch into pooled, L2-normalised embeddings (one per row). Implemented by the
/// ONNX Runtime encoder (serving) and the TorchSharp model (training, parity). Implementations are thread-safe.
/// </summary>
public interface IVlm2VecEncoder : IDisposable
{
    /// <summary>What the model is: id, dimension, the preprocessing it expects.</summary>
    Vlm2VecModelInfo Info { get; }

    /// <summary>The preprocessing that matches this model (tokenizer, image processor, prompt rules, collator).</summary>
    Vlm2VecPreprocessor Preprocessor { get; }

    /// <summary>Encodes a batch; returns <c>BatchSize</c> vectors of <c>Info.Dimension</c> floats, each L2-normalised.</summary>
    Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default);
}
