using TorchSharp;
using TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>Optimizers that dispose the Scalars they make.</summary>
internal static class ScalarDisposing
{
    /// <summary>
    /// TorchSharp's <see cref="global::TorchSharp.Modules.AdamW"/> update, step for step and bit for bit (the same state,
    /// options and state dictionary, so checkpoints are interchangeable), with its coefficients passed as
    /// <see cref="Scalar"/>s that are disposed here. TorchSharp's own
    /// step converts each coefficient implicitly and leaves the native <c>Scalar</c> to the finalizer: about eight per
    /// parameter per step, which can be freed while libtorch still reads them when another thread starts a collection
    /// (dotnet/TorchSharp#1434) and otherwise sit in the native heap until one comes (<see cref="FinalizerOwnedNativeMemory"/>).
    /// Named <c>AdamW</c> because TorchSharp writes the optimizer's type name into its state dictionary and checks it on
    /// load: checkpoints written before this class existed (and by TorchSharp's own AdamW) load, and the other way round.
    /// </summary>
    internal sealed class AdamW(IEnumerable<global::TorchSharp.Modules.AdamW.ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay)
        : global::TorchSharp.Modules.AdamW(groups, lr, beta1, beta2, eps, weightDecay)
    {
        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(
            group =>
            {
                var options = (Options)group.Options;
                var beta1 = options.beta1!.Value;
                var beta2 = options.beta2!.Value;
                var weightDecay = options.weight_decay!.Value;
                var eps = options.eps!.Value;
                var lr = options.LearningRate!.Value;
                if (options.amsgrad!.Value || options.maximize!.Value)
                {
                    throw new NotSupportedException("amsgrad and maximize are not used by the trainer.");
                }

                foreach (var param in group.Parameters)
                {
                    var state = (State)_state[param.Handle];
                    var grad = param.grad;
                    if (grad is null)
                    {
                        continue;
                    }

                    state.step += 1;
                    var biasCorrection1 = 1 - Math.Pow(beta1, state.step);
                    var biasCorrection2 = 1 - Math.Pow(beta2, state.step);
                    using Scalar decay = 1 - (lr * weightDecay), b1 = beta1, oneMinusB1 = 1 - beta1, b2 = beta2, oneMinusB2 = 1 - beta2;
                    using Scalar sqrtCorrection2 = Math.Sqrt(biasCorrection2), epsilon = eps, stepSize = -(lr / biasCorrection1);
                    param.mul_(decay);
                    state.exp_avg.mul_(b1).add_(grad, oneMinusB1);
                    state.exp_avg_sq.mul_(b2).addcmul_(grad, grad, oneMinusB2);
                    using var denominator = state.exp_avg_sq.sqrt().div_(sqrtCorrection2).add_(epsilon);
                    param.addcdiv_(state.exp_avg, denominator, stepSize);
                }
            },
            closure);
    }
}
