using TorchSharp;
using TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>
/// A DoRA adapter around a frozen Linear (PEFT's <c>lora.Linear</c> with <c>use_dora</c>): the adapted weight is
/// <c>W' = (m / ‖W + s·B·A‖_row) ⊙ (W + s·B·A)</c>. The forward pass computes it the way PEFT's
/// <c>DoraLinearLayer.forward</c> does, with the weight norm detached from the graph (section 4.3 of the DoRA paper), so
/// that gradients match PEFT's: <c>y = base(x) + (m/n − 1) ⊙ (W x_d) + (m/n) ⊙ s·B·A·x_d</c>, where <c>x_d</c> is the
/// dropped-out input while training with dropout and the plain input otherwise (then <c>W x</c> is reused from the base
/// output). The magnitude starts at the row norms of <c>W</c>.
/// </summary>
public sealed class DoraLinear : nn.Module<Tensor, Tensor>, ILoraModule
{
#pragma warning disable IDE1006, SA1300 // Field names are the PEFT module names (they become state-dict keys).
    private readonly Linear base_layer;
    private readonly Linear lora_A;
    private readonly Linear lora_B;
    private readonly nn.Module<Tensor, Tensor> lora_dropout;
    private Parameter lora_magnitude_vector;
#pragma warning restore IDE1006, SA1300
    private readonly bool _hasDropout;

    /// <summary>Wraps <paramref name="baseLayer"/> (and freezes it) with a new DoRA adapter configured for <paramref name="moduleName"/>.</summary>
    /// <param name="baseLayer">The Linear to adapt.</param>
    /// <param name="config">Rank, alpha (with <c>rank_pattern</c>/<c>alpha_pattern</c>), dropout and init method.</param>
    /// <param name="moduleName">The module's full name (for the per-module rank and alpha).</param>
    /// <param name="options">Seed and adapter type.</param>
    public DoraLinear(Linear baseLayer, LoraConfig config, string moduleName, LoraInjectOptions? options = null)
        : this(baseLayer, config, moduleName, options ?? new LoraInjectOptions(), LoraLinear.GeneratorFor(options))
    {
    }

    internal DoraLinear(Linear baseLayer, LoraConfig config, string moduleName, LoraInjectOptions options, Generator? generator)
        : base(nameof(DoraLinear))
    {
        if (config.LoraBias)
        {
            throw new NotSupportedException("lora_bias together with DoRA is not supported.");
        }

        base_layer = baseLayer;
        (lora_A, lora_B, lora_dropout, Rank, Alpha, Scaling) = LoraLayerParts.Create(baseLayer, config, moduleName, options.AdapterDType, generator);
        _hasDropout = config.LoraDropout > 0;
        using (no_grad())
        {
            lora_magnitude_vector = new Parameter(LoraMath.RowNorms(baseLayer.weight!, lora_A.weight!, lora_B.weight!, Scaling, options.AdapterDType), requires_grad: true);
        }

        RegisterComponents();
    }

    /// <summary>The frozen base Linear.</summary>
    public Linear BaseLayer => base_layer;

    /// <summary>A: in → r.</summary>
    public Linear LoraA => lora_A;

    /// <summary>B: r → out (zero at initialisation).</summary>
    public Linear LoraB => lora_B;

    /// <summary>The learned magnitude m (one entry per output row).</summary>
    public Parameter Magnitude => lora_magnitude_vector;

    /// <summary>The rank r.</summary>
    public int Rank { get; }

    /// <summary>The alpha α.</summary>
    public double Alpha { get; }

    /// <summary>The scaling s.</summary>
    public double Scaling { get; }

    Tensor? ILoraModule.MagnitudeVector => lora_magnitude_vector;

    internal static bool NoFold;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (!is_grad_enabled() && !NoFold)
        {
            return ForwardWithoutGraph(input);
        }

        using var scope = NewDisposeScope();
        var result = base_layer.forward(input);
        var resultType = result.dtype;
        var adapterType = lora_A.weight!.dtype;
        var x = input.dtype == adapterType ? input : input.to(adapterType);

        Tensor? baseResult;
        if (!_hasDropout || !training)
        {
            baseResult = result;
        }
        else
        {
            x = lora_dropout.forward(x);
            baseResult = null;
        }

        // Explicit, disposed Scalars: TorchSharp 0.107 leaves the ones it converts implicitly (t.mul(2.0)) to the finalizer,
        // which can free them while libtorch still reads them (dotnet/TorchSharp#1434) and scatters small blocks over the
        // native heap between steps. The same pattern is used in the other per-forward code of the model and the loss.
        using Scalar scaling = Scaling, one = 1.0;
        var weight = base_layer.weight!.dtype == x.dtype ? base_layer.weight! : base_layer.weight!.to(x.dtype);
        var loraWeight = lora_B.weight!.matmul(lora_A.weight!).to(x.dtype);
        var weightNorm = weight.add(loraWeight.detach().mul(scaling)).norm(1, keepdim: false, p: 2f).to(weight.dtype).detach();
        var magNormScale = lora_magnitude_vector.div(weightNorm).view(1, -1);

        var loraResult = lora_B.forward(lora_A.forward(x));
        if (baseResult is not null)
        {
            if (base_layer.bias is { } bias)
            {
                baseResult = baseResult.sub(bias);
            }
        }
        else
        {
            baseResult = nn.functional.linear(x, weight, null);
        }

        var doraResult = magNormScale.sub(one).mul(baseResult).add(magNormScale.mul(loraResult).mul(scaling));
        var sum = result.add(doraResult);
        return (sum.dtype == resultType ? sum : sum.to(resultType)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same output without autograd (serving, GradCache's first pass), folded into fewer products: with
    /// <c>k = m / ‖W + s·B·A‖_row</c>, the output is <c>x·(k ⊙ (W + s·B·A))ᵀ + b</c> when the adapter input is not dropped
    /// out (one product instead of three), and <c>base(x) + x_d·(k ⊙ (W + s·B·A) − W)ᵀ</c> when it is (two instead of
    /// four). Equal to <see cref="forward"/> up to float rounding (the products are associated differently), with the
    /// same dropout draw.
    /// </summary>
    private Tensor ForwardWithoutGraph(Tensor input)
    {
        using var scope = NewDisposeScope();
        var adapterType = lora_A.weight!.dtype;
        var resultType = base_layer.weight!.dtype;
        var x = input.dtype == adapterType ? input : input.to(adapterType);
        var weight = base_layer.weight!.dtype == adapterType ? base_layer.weight! : base_layer.weight!.to(adapterType);
        using Scalar scaling = Scaling;
        var adapted = weight.add(lora_B.weight!.matmul(lora_A.weight!).to(adapterType), scaling);
        var scale = lora_magnitude_vector.to(adapterType).div(adapted.norm(1, keepdim: false, p: 2f)).unsqueeze(1);
        Tensor output;
        if (!_hasDropout || !training)
        {
            var bias = base_layer.bias is { } b ? (b.dtype == adapterType ? b : b.to(adapterType)) : null;
            output = nn.functional.linear(x, adapted.mul_(scale), bias);
        }
        else
        {
            var result = base_layer.forward(input);
            var delta = nn.functional.linear(lora_dropout.forward(x), adapted.mul_(scale).sub_(weight));
            output = result.dtype == delta.dtype ? result.add_(delta) : result.add(delta.to(result.dtype));
        }

        return (output.dtype == resultType ? output : output.to(resultType)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Writes <c>(m / ‖W + s·B·A‖_row) ⊙ (W + s·B·A)</c> into the base Linear (computed in float32, stored in its type)
    /// and returns it.
    /// </summary>
    public Linear MergeAndUnload() => LoraLayerParts.MergeInto(base_layer, lora_A, lora_B, lora_magnitude_vector, Scaling);
}
