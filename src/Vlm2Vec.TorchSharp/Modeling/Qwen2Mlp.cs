using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary><c>Qwen2MLP</c>: <c>down_proj(silu(gate_proj(x)) ⊙ up_proj(x))</c>, no biases (spec §3.7).</summary>
/// <remarks>
/// The three projections are <see cref="nn.Module{T, TResult}"/> fields named like their state-dict keys, so an
/// adapter module (LoRA/DoRA) can replace any of them by reflection and <c>register_module</c>.
/// </remarks>
internal sealed class Qwen2Mlp : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> gate_proj;
    private nn.Module<Tensor, Tensor> up_proj;
    private nn.Module<Tensor, Tensor> down_proj;

    public Qwen2Mlp(Qwen2VlConfig config, ScalarType dtype)
        : base(nameof(Qwen2Mlp))
    {
        if (!string.Equals(config.HiddenAct, "silu", StringComparison.Ordinal))
        {
            throw new ModelFormatException($"hidden_act '{config.HiddenAct}' is not supported by the Qwen2-VL decoder MLP; supported: silu.");
        }

        gate_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false, dtype: dtype);
        up_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false, dtype: dtype);
        down_proj = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: false, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var gate = nn.functional.silu(gate_proj.call(input));
        var output = down_proj.call(gate * up_proj.call(input));
        return output.MoveToOuterDisposeScope();
    }
}
