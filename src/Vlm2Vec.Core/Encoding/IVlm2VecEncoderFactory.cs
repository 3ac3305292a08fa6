namespace Vlm2Vec;

/// <summary>
/// Opens models of one engine (ONNX Runtime, TorchSharp, …) as <see cref="IVlm2VecEncoder"/>s. Engines register their
/// factory (for example in a dependency-injection container as an <see cref="IVlm2VecEncoderFactory"/> service), so
/// that hosts such as <c>AddVlm2VecEmbeddingGenerator(o =&gt; o.ModelPath = …)</c> can open a model by path without
/// referencing the engine. Implementations are thread-safe.
/// </summary>
public interface IVlm2VecEncoderFactory
{
    /// <summary>
    /// The engine's name (for example <c>onnxruntime</c> or <c>torchsharp</c>), matched case-insensitively against a
    /// requested engine.
    /// </summary>
    string Engine { get; }

    /// <summary>
    /// Whether this engine can open the model at <paramref name="modelPath"/> (a bundle folder with its manifest, a
    /// checkpoint folder, …). Only looks at what is there; it must not load the model.
    /// </summary>
    bool CanOpen(string modelPath);

    /// <summary>Opens the model. The caller owns (and disposes) the encoder.</summary>
    /// <exception cref="ModelFormatException">The model files are missing or unusable.</exception>
    /// <exception cref="NotSupportedException">The requested device is not available to this engine.</exception>
    IVlm2VecEncoder Create(Vlm2VecEncoderOptions options);
}
