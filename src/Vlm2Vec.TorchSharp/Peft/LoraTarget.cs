using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>The adapter tensors of one targeted Linear module (canonical module path).</summary>
internal sealed class LoraTarget : IDisposable
{
    public LoraTarget(string modulePath, Tensor loraA, Tensor loraB, Tensor? magnitude, Tensor? loraBBias, double scaling)
    {
        ModulePath = modulePath;
        LoraA = loraA;
        LoraB = loraB;
        Magnitude = magnitude;
        LoraBBias = loraBBias;
        Scaling = scaling;
    }

    /// <summary>Canonical module path, e.g. <c>model.layers.0.self_attn.q_proj</c>.</summary>
    public string ModulePath { get; }

    /// <summary>Canonical name of the base weight this adapter changes.</summary>
    public string WeightName => ModulePath + ".weight";

    /// <summary>Canonical name of the base bias (changed only with a LoRA bias).</summary>
    public string BiasName => ModulePath + ".bias";

    /// <summary>r × in.</summary>
    public Tensor LoraA { get; }

    /// <summary>out × r.</summary>
    public Tensor LoraB { get; }

    /// <summary>DoRA magnitude (out), or null for plain LoRA.</summary>
    public Tensor? Magnitude { get; }

    /// <summary>LoRA bias (out), or null.</summary>
    public Tensor? LoraBBias { get; }

    /// <summary>α/r (or α/√r).</summary>
    public double Scaling { get; }

    public long Rank => LoraA.shape[0];

    public long InFeatures => LoraA.shape[1];

    public long OutFeatures => LoraB.shape[0];

    public void Dispose()
    {
        LoraA.Dispose();
        LoraB.Dispose();
        Magnitude?.Dispose();
        LoraBBias?.Dispose();
    }
}
