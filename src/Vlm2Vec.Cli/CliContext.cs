using Microsoft.Extensions.Logging;
using Spectre.Console;
using Vlm2Vec.Cli.Output;

namespace Vlm2Vec.Cli;

/// <summary>
/// What a verb works with: the result console (stdout), the status console (stderr: errors, warnings, logs, progress,
/// summaries), logging, and the global switches. One per run, made once the command line is parsed.
/// </summary>
internal sealed class CliContext : IDisposable
{
    private readonly ILoggerFactory _loggerFactory;

    public CliContext(CliEnvironment environment, bool verbose, bool quiet, bool noColor)
    {
        Environment = environment;
        Verbose = verbose;
        Quiet = quiet && !verbose;
        var colorOff = noColor || !string.IsNullOrEmpty(environment.GetVariable("NO_COLOR"));
        Out = ConsoleFactory.Create(environment.Out, environment.OutIsTerminal, environment.DetectAnsi, colorOff, environment.TerminalWidth);
        Error = ConsoleFactory.Create(environment.Error, environment.ErrorIsTerminal, environment.DetectAnsi, colorOff, environment.TerminalWidth);
        var level = Verbose ? LogLevel.Debug : Quiet ? LogLevel.Error : LogLevel.Warning;
        _loggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddProvider(new AnsiConsoleLoggerProvider(Error, Verbose)));
    }

    public CliEnvironment Environment { get; }

    /// <summary>Results: what a script captures.</summary>
    public IAnsiConsole Out { get; }

    /// <summary>Everything meant for a person: errors, warnings, logs, progress, summaries.</summary>
    public IAnsiConsole Error { get; }

    /// <summary><c>--verbose</c>: debug logging and stack traces.</summary>
    public bool Verbose { get; }

    /// <summary><c>--quiet</c> (ignored with <c>--verbose</c>): results and errors only.</summary>
    public bool Quiet { get; }

    public ILoggerFactory LoggerFactory => _loggerFactory;

    public ILogger CreateLogger(string category) => _loggerFactory.CreateLogger(category);

    /// <summary>
    /// Writes one result line to stdout exactly as given (no markup, no wrapping), for values scripts capture, such as a
    /// folder path.
    /// </summary>
    public void WriteResultLine(string text)
    {
        Environment.Out.WriteLine(text);
        Environment.Out.Flush();
    }

    /// <summary>Shows <paramref name="renderable"/> on the status console unless <c>--quiet</c>.</summary>
    public void WriteStatus(Spectre.Console.Rendering.IRenderable renderable)
    {
        if (!Quiet)
        {
            Error.Write(renderable);
        }
    }

    /// <summary>Runs <paramref name="work"/> with a progress display on the status console (see <see cref="ProgressDisplay"/>).</summary>
    public Task<T> WithProgressAsync<T>(ProgressUnit unit, Func<IProgressView, Task<T>> work) =>
        ProgressDisplay.RunAsync(this, unit, work);

    public void Dispose() => _loggerFactory.Dispose();
}
