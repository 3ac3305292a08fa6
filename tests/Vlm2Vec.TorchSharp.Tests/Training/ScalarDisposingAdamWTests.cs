using TorchSharp;
using TorchSharp.Modules;
using Vlm2Vec.TorchSharp.Tests.Checkpoints;
using Vlm2Vec.TorchSharp.Training;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Training;

public sealed class ScalarDisposingAdamWTests : TorchTestBase
{
    [Fact]
    public void Steps_are_bit_identical_to_torchsharps_adamw_and_its_state_loads_either_way()
    {
        var (reference, referenceOptimizer) = Create(optim: (groups) => optim.AdamW(groups, 1e-2, 0.9, 0.999, 1e-8, 0.1));
        var (ours, ourOptimizer) = Create(optim: (groups) => new ScalarDisposing.AdamW(groups, 1e-2, 0.9, 0.999, 1e-8, 0.1));
        for (var step = 0; step < 5; step++)
        {
            Step(reference, referenceOptimizer, step);
            Step(ours, ourOptimizer, step);
            for (var i = 0; i < reference.Length; i++)
            {
                AssertIdentical(reference[i], ours[i], $"parameter {i} after step {step + 1}");
            }
        }

        // A state saved by TorchSharp's AdamW (earlier checkpoints) loads into this one and continues identically.
        var file = Path.GetTempFileName();
        try
        {
            using (var writer = new BinaryWriter(File.Create(file)))
            {
                referenceOptimizer.save_state_dict(writer);
            }

            var (resumed, resumedOptimizer) = Create(optim: (groups) => new ScalarDisposing.AdamW(groups, 1e-2, 0.9, 0.999, 1e-8, 0.1));
            using (no_grad())
            {
                for (var i = 0; i < reference.Length; i++)
                {
                    resumed[i].copy_(reference[i]);
                }
            }

            using (var reader = new BinaryReader(File.OpenRead(file)))
            {
                resumedOptimizer.load_state_dict(reader);
            }

            Step(reference, referenceOptimizer, 5);
            Step(resumed, resumedOptimizer, 5);
            for (var i = 0; i < reference.Length; i++)
            {
                AssertIdentical(reference[i], resumed[i], $"parameter {i} after resuming");
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static (Parameter[] Parameters, OptimizerHelper Optimizer) Create(Func<List<AdamW.ParamGroup>, OptimizerHelper> optim)
    {
        using var generator = new Generator(5, CPU);
        Parameter[] parameters = [new(randn([6, 4], generator: generator)), new(randn([6], generator: generator))];
        var groups = new List<AdamW.ParamGroup>
        {
            new([parameters[0]], 1e-2, 0.9, 0.999, 1e-8, 0.1),
            new([parameters[1]], 1e-2, 0.9, 0.999, 1e-8, 0),
        };
        return (parameters, optim(groups));
    }

    private static void Step(Parameter[] parameters, OptimizerHelper optimizer, int step)
    {
        optimizer.zero_grad();
        using var generator = new Generator((ulong)(100 + step), CPU);
        var target = randn([6, 4], generator: generator);
        parameters[0].add(parameters[1].unsqueeze(1)).sub(target).square().sum().backward();
        optimizer.step();
    }
}
