using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// Shows training progress on the status console: a live bar with step, loss, learning rate, pairs/s and the time left
/// on a terminal; a plain line every few seconds when stderr is redirected; nothing with <c>--quiet</c>.
/// </summary>
internal sealed class TrainProgressView : IProgress<TrainingProgress>
{
    private readonly Action<TrainingProgress> _show;

    private TrainProgressView(Action<TrainingProgress> show) => _show = show;

    public static async Task<TrainingResult> RunAsync(CliContext context, Func<IProgress<TrainingProgress>, Task<TrainingResult>> work)
    {
        if (context.Quiet)
        {
            return await work(new TrainProgressView(_ => { })).ConfigureAwait(false);
        }

        var console = context.Error;
        var capabilities = console.Profile.Capabilities;
        if (!capabilities.Interactive || !capabilities.Ansi)
        {
            return await work(Plain(console, TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        }

        return await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("starting", maxValue: 1);
                return await work(new TrainProgressView(p =>
                {
                    task.MaxValue = Math.Max(1, p.TotalSteps);
                    task.Value = p.Step;
                    task.Description = Markup.Escape(Describe(p));
                })).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    public void Report(TrainingProgress value) => _show(value);

    /// <summary>One line for a progress report.</summary>
    internal static string Describe(TrainingProgress p) => p.Phase switch
    {
        TrainingPhase.Starting => "starting",
        TrainingPhase.Checkpointing => string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps} saving checkpoint"),
        TrainingPhase.WritingOutputs => "writing the adapter / model",
        TrainingPhase.Finished => string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps} done"),
        _ => string.Create(CultureInfo.InvariantCulture,
            $"step {p.Step}/{p.TotalSteps} loss {p.Loss:0.0000} lr {p.LearningRate:0.00e+00} {p.ExamplesPerSecond:0.0} pairs/s{(p.SkippedRows > 0 ? $" skipped {p.SkippedRows}" : string.Empty)}"),
    };

    private static TrainProgressView Plain(IAnsiConsole console, TimeSpan every)
    {
        var clock = Stopwatch.StartNew();
        var last = TimeSpan.MinValue;
        return new TrainProgressView(p =>
        {
            var now = clock.Elapsed;
            var isStep = p.Phase == TrainingPhase.Step;
            if (isStep && now - last < every && p.Step != p.TotalSteps && p.Step != 1)
            {
                return;
            }

            last = now;
            var eta = isStep && p.Remaining is { } remaining ? $" eta {remaining.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture)}" : string.Empty;
            console.WriteLine(Describe(p) + eta);
        });
    }
}
