using Spectre.Console;

namespace Vlm2Vec.Cli.Output;

/// <summary>
/// Chooses how a run shows progress on the status console: live Spectre.Console progress bars on an interactive
/// terminal, plain lines when stderr is redirected, nothing with <c>--quiet</c>.
/// </summary>
internal static class ProgressDisplay
{
    public static async Task<T> RunAsync<T>(CliContext context, ProgressUnit unit, Func<IProgressView, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (context.Quiet)
        {
            return await work(SilentProgressView.Instance).ConfigureAwait(false);
        }

        var console = context.Error;
        var capabilities = console.Profile.Capabilities;
        if (!capabilities.Interactive || !capabilities.Ansi)
        {
            return await work(new PlainProgressView(console, unit)).ConfigureAwait(false);
        }

        ProgressColumn[] columns = unit == ProgressUnit.Bytes
            ?
            [
                new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn(),
            ]
            : [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()];
        return await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(columns)
            .StartAsync(progress => work(new InteractiveProgressView(progress)))
            .ConfigureAwait(false);
    }
}
