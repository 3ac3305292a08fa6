using System.CommandLine;

namespace Vlm2Vec.Cli;

/// <summary>
/// One invocation of the tool: its environment, the global options, and the <see cref="CliContext"/> made from the
/// parsed command line (once, shared by the verb and the error handler).
/// </summary>
internal sealed class CliRun : IDisposable
{
    private CliContext? _context;

    public CliRun(CliEnvironment environment)
    {
        Environment = environment;
    }

    public CliEnvironment Environment { get; }

    public GlobalOptions Globals { get; } = new();

    /// <summary>The context for this run, made from the global options of <paramref name="parseResult"/> on first use.</summary>
    public CliContext ContextFor(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        return _context ??= new CliContext(
            Environment,
            verbose: Flag(parseResult, Globals.Verbose),
            quiet: Flag(parseResult, Globals.Quiet),
            noColor: Flag(parseResult, Globals.NoColor));
    }

    public void Dispose() => _context?.Dispose();

    private static bool Flag(ParseResult parseResult, Option<bool> option)
    {
        // A command line with errors may not yield values; the switches then keep their defaults.
        try
        {
            return parseResult.GetValue(option);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
