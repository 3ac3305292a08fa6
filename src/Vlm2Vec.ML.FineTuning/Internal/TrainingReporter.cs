using System.Globalization;
using Microsoft.ML.Runtime;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.ML;

/// <summary>
/// Sends the trainer's progress to ML.NET: phase changes and about twenty step lines per run (loss, learning rate,
/// throughput) as <c>MLContext.Log</c> messages, and every step's loss to a progress channel.
/// </summary>
internal sealed class TrainingReporter : IProgress<TrainingProgress>, IDisposable
{
    private readonly IChannel _channel;
    private readonly IProgressChannel _progress;
    private int _step;
    private int _total = 1;
    private double _loss = double.NaN;

    public TrainingReporter(IHost host)
    {
        _channel = host.Start("FineTune");
        _progress = host.StartProgressChannel("Vlm2Vec fine-tuning");
        _progress.SetHeader(new ProgressHeader(["loss"], ["step"]), entry =>
        {
            entry.SetProgress(0, Volatile.Read(ref _step), Math.Max(1, Volatile.Read(ref _total)));
            entry.SetMetric(0, Volatile.Read(ref _loss));
        });
    }

    public void Report(TrainingProgress value)
    {
        Volatile.Write(ref _step, value.Step);
        Volatile.Write(ref _total, value.TotalSteps);
        switch (value.Phase)
        {
            case TrainingPhase.Step:
                Volatile.Write(ref _loss, value.Loss);
                _progress.Checkpoint(value.Loss, value.Step);
                var every = Math.Max(1, value.TotalSteps / 20);
                if (value.Step % every == 0 || value.Step == value.TotalSteps || value.Step == 1)
                {
                    _channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
                        $"Vlm2Vec fine-tuning: step {value.Step}/{value.TotalSteps}, epoch {value.Epoch}, loss {value.Loss:F4}, learning rate {value.LearningRate:G3}, gradient norm {value.GradientNorm:F3}, {value.ExamplesPerSecond:F1} pairs/s"));
                }

                break;
            default:
                _channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
                    $"Vlm2Vec fine-tuning: {value.Phase} (step {value.Step}/{value.TotalSteps}){(value.Message is null ? string.Empty : ": " + value.Message)}"));
                break;
        }
    }

    public void Info(string message) => _channel.Info(MessageSensitivity.None, message);

    public void Dispose()
    {
        _progress.Dispose();
        _channel.Dispose();
    }
}
