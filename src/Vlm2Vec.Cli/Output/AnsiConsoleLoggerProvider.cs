using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Vlm2Vec.Cli.Output;

/// <summary>
/// Sends log messages to the status console (stderr). Written here rather than using Microsoft.Extensions.Logging.Console
/// because that provider writes to <see cref="Console"/> itself from a background queue: it can neither target the
/// run's <see cref="IAnsiConsole"/> (which tests capture) nor cooperate with a live progress display, which redraws
/// below whatever is written through the same console.
/// </summary>
internal sealed class AnsiConsoleLoggerProvider : ILoggerProvider
{
    private readonly IAnsiConsole _console;
    private readonly bool _includeExceptions;

    public AnsiConsoleLoggerProvider(IAnsiConsole console, bool includeExceptions)
    {
        _console = console;
        _includeExceptions = includeExceptions;
    }

    public ILogger CreateLogger(string categoryName) => new AnsiConsoleLogger(_console, categoryName, _includeExceptions);

    public void Dispose()
    {
    }
}
