using System.CommandLine;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// Base of every verb: a System.CommandLine <see cref="Command"/> whose action receives the run's
/// <see cref="CliContext"/> and the Ctrl+C token. A new verb is one class deriving from this plus one line in
/// <see cref="CliApplication.Verbs"/>. Errors are thrown, not printed: <see cref="CliErrorHandler"/> reports them.
/// </summary>
internal abstract class VerbCommand : Command
{
    protected VerbCommand(string name, string description, CliRun run)
        : base(name, description)
    {
        ArgumentNullException.ThrowIfNull(run);
        SetAction((parseResult, cancellationToken) => ExecuteAsync(run.ContextFor(parseResult), parseResult, cancellationToken));
    }

    /// <summary>Text shown after the options in <c>--help</c> (examples, notes); <see langword="null"/> for none.</summary>
    public virtual string? HelpEpilogue => null;

    /// <summary>Runs the verb; returns the exit code (normally <see cref="ExitCodes.Success"/>).</summary>
    protected abstract Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken);
}
