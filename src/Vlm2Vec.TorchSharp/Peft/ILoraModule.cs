using TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Peft;

/// <summary>What <see cref="LoraLinear"/> and <see cref="DoraLinear"/> share, for the injector and the saver.</summary>
internal interface ILoraModule
{
    /// <summary>The frozen base Linear.</summary>
    Linear BaseLayer { get; }

    /// <summary>A: in → r.</summary>
    Linear LoraA { get; }

    /// <summary>B: r → out.</summary>
    Linear LoraB { get; }

    /// <summary>DoRA magnitude (out), or null.</summary>
    Tensor? MagnitudeVector { get; }

    /// <summary>α/r (or α/√r).</summary>
    double Scaling { get; }

    /// <summary>Writes the merged weight (and bias) into <see cref="BaseLayer"/> and returns it.</summary>
    Linear MergeAndUnload();
}
