namespace Vlm2Vec.Cli;

/// <summary>
/// Ctrl+C handling of the real process: the first press cancels the token every verb receives (downloads stop and keep
/// their partial files for the next run); a second press ends the process at once.
/// </summary>
internal sealed class ConsoleInterruptHandler : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly TextWriter _error;
    private int _presses;

    public ConsoleInterruptHandler(TextWriter error)
    {
        _error = error;
        Console.CancelKeyPress += OnCancelKeyPress;
    }

    /// <summary>Cancelled on the first Ctrl+C.</summary>
    public CancellationToken Token => _cancellation.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _cancellation.Dispose();
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        if (Interlocked.Increment(ref _presses) > 1)
        {
            e.Cancel = false; // the runtime ends the process now, as SIGINT does by default (exit 130)
            return;
        }

        e.Cancel = true;
        _error.WriteLine("Stopping... (press Ctrl+C again to quit at once)");
        _cancellation.Cancel();
    }
}
