using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Vlm2Vec.Cli.Output;

/// <summary>One category's logger of <see cref="AnsiConsoleLoggerProvider"/>: <c>warn: message</c>, one line per entry.</summary>
internal sealed class AnsiConsoleLogger : ILogger
{
    private static readonly Lock WriteLock = new();
    private readonly IAnsiConsole _console;
    private readonly string _category;
    private readonly bool _includeExceptions;

    public AnsiConsoleLogger(IAnsiConsole console, string category, bool includeExceptions)
    {
        _console = console;
        _category = category;
        _includeExceptions = includeExceptions;
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var (label, style) = logLevel switch
        {
            LogLevel.Trace => ("trce", "grey"),
            LogLevel.Debug => ("dbug", "grey"),
            LogLevel.Information => ("info", "blue"),
            LogLevel.Warning => ("warn", "yellow"),
            LogLevel.Error => ("fail", "red"),
            _ => ("crit", "red bold"),
        };
        var message = formatter(state, exception);
        var source = logLevel <= LogLevel.Debug ? $" [grey]{Markup.Escape(_category)}:[/]" : string.Empty;
        lock (WriteLock)
        {
            _console.MarkupLine($"[{style}]{label}:[/]{source} {Markup.Escape(message)}");
            if (exception is not null && _includeExceptions)
            {
                _console.Write(new Text(exception.ToString() + "\n", new Style(Color.Grey)));
            }
        }
    }
}
