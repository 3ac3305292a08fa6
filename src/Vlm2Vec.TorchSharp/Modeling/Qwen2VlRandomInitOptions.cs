using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>How <see cref="Qwen2VlForConditionalGeneration.CreateRandom"/> initialises a model from a config.</summary>
public sealed class Qwen2VlRandomInitOptions
{
    /// <summary>Seed of the generator that draws every weight (same seed, same config → identical weights).</summary>
    public long Seed { get; init; }

    /// <summary>Parameter dtype (weights are drawn in float32, then converted).</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Standard deviation of the normal initialisation of linear, convolution and embedding weights (the
    /// reference's <c>initializer_range</c>, 0.02 for Qwen2-VL). Biases start at 0, norm weights at 1.</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Build the language-model head (see <see cref="Qwen2VlLoadOptions.IncludeLanguageModelHead"/>).</summary>
    public bool IncludeLanguageModelHead { get; init; }

    /// <summary>Attention kernel.</summary>
    public Qwen2VlAttentionImplementation AttentionImplementation { get; init; } = Qwen2VlAttentionImplementation.Eager;
}
