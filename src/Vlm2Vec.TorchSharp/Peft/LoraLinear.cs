using TorchSharp;
using TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>
/// A LoRA adapter around a frozen Linear, as PEFT's <c>lora.Linear</c>:
/// <c>y = base(x) + lora_B(lora_A(dropout(x))) · s</c> with <c>s = α/r</c> (or <c>α/√r</c>). The adapter computes in its
/// own type (float32 by default) and the sum is cast back to the base output type. Sub-module names follow PEFT
/// (<c>base_layer</c>, <c>lora_A</c>, <c>lora_B</c>, <c>lora_dropout</c>).
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>, ILoraModule
{
#pragma warning disable IDE1006, SA1300 // Field names are the PEFT module names (they become state-dict keys).
    private readonly Linear base_layer;
    private readonly Linear lora_A;
    private readonly Linear lora_B;
    private readonly nn.Module<Tensor, Tensor> lora_dropout;
#pragma warning restore IDE1006, SA1300

    /// <summary>Wraps <paramref name="baseLayer"/> (and freezes it) with a new adapter configured for <paramref name="moduleName"/>.</summary>
    /// <param name="baseLayer">The Linear to adapt.</param>
    /// <param name="config">Rank, alpha (with <c>rank_pattern</c>/<c>alpha_pattern</c>), dropout and init method.</param>
    /// <param name="moduleName">The module's full name (for the per-module rank and alpha).</param>
    /// <param name="options">Seed and adapter type.</param>
    public LoraLinear(Linear baseLayer, LoraConfig config, string moduleName, LoraInjectOptions? options = null)
        : this(baseLayer, config, moduleName, options ?? new LoraInjectOptions(), GeneratorFor(options))
    {
    }

    internal LoraLinear(Linear baseLayer, LoraConfig config, string moduleName, LoraInjectOptions options, Generator? generator)
        : base(nameof(LoraLinear))
    {
        if (config.UseDora)
        {
            throw new ArgumentException("The config says use_dora; create a DoraLinear.", nameof(config));
        }

        base_layer = baseLayer;
        (lora_A, lora_B, lora_dropout, Rank, Alpha, Scaling) = LoraLayerParts.Create(baseLayer, config, moduleName, options.AdapterDType, generator);
        RegisterComponents();
    }

    /// <summary>The frozen base Linear.</summary>
    public Linear BaseLayer => base_layer;

    /// <summary>A: in → r.</summary>
    public Linear LoraA => lora_A;

    /// <summary>B: r → out (zero at initialisation, so the wrapper starts equal to the base layer).</summary>
    public Linear LoraB => lora_B;

    /// <summary>The rank r.</summary>
    public int Rank { get; }

    /// <summary>The alpha α.</summary>
    public double Alpha { get; }

    /// <summary>The scaling s.</summary>
    public double Scaling { get; }

    Tensor? ILoraModule.MagnitudeVector => null;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var result = base_layer.forward(input);
        var resultType = result.dtype;
        var x = input.dtype == lora_A.weight!.dtype ? input : input.to(lora_A.weight!.dtype);
        using Scalar scaling = Scaling;
        var update = lora_B.forward(lora_A.forward(lora_dropout.forward(x))).mul(scaling);
        var sum = result.add(update);
        return (sum.dtype == resultType ? sum : sum.to(resultType)).MoveToOuterDisposeScope();
    }

    /// <summary>Writes <c>W + s·B·A</c> into the base Linear (computed in float32, stored in its type) and returns it.</summary>
    public Linear MergeAndUnload() => LoraLayerParts.MergeInto(base_layer, lora_A, lora_B, null, Scaling);

    internal static Generator? GeneratorFor(LoraInjectOptions? options) =>
        options?.Seed is { } seed ? new Generator(unchecked((ulong)seed), CPU) : null;
}
