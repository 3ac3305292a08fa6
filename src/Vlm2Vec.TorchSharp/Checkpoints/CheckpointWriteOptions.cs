using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>How <see cref="CheckpointWriter"/> writes a checkpoint folder.</summary>
public sealed class CheckpointWriteOptions
{
    /// <summary>
    /// Largest shard in bytes; null writes one <c>model.safetensors</c>. When set, the weights go to
    /// <c>model-0000k-of-0000n.safetensors</c> files with a <c>model.safetensors.index.json</c> (a tensor larger than the
    /// limit gets a shard of its own, as transformers does).
    /// </summary>
    public long? MaxShardBytes { get; init; }

    /// <summary>Weight-name layout of the files (default <see cref="WeightNameLayout.Classic"/>, which every transformers version reads).</summary>
    public WeightNameLayout Layout { get; init; } = WeightNameLayout.Classic;

    /// <summary>Floating-point tensors are converted to this type while writing (null: as they are).</summary>
    public ScalarType? DType { get; init; }

    /// <summary>Extra <c>__metadata__</c> entries (<c>format: pt</c> is always written).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
