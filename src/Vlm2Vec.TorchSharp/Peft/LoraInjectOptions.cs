using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>How adapter modules are created.</summary>
public sealed class LoraInjectOptions
{
    /// <summary>Seed of the adapter initialisation (null: TorchSharp's global generator, see <c>torch.manual_seed</c>).</summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Type of the adapter parameters (A, B, magnitude). Default float32, as PEFT does for bf16/fp16 base models
    /// (<c>autocast_adapter_dtype</c>): the adapter computes in float32 and its output is cast back to the base type.
    /// </summary>
    public ScalarType AdapterDType { get; init; } = ScalarType.Float32;
}
