using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Vlm2Vec.Cli.Commands;

namespace Vlm2Vec.Cli;

/// <summary>The standard <c>--help</c> output followed by the command's epilogue (examples; for the root, exit codes).</summary>
internal sealed class HelpWithEpilogueAction : SynchronousCommandLineAction
{
    private readonly HelpAction _help;
    private readonly string _rootEpilogue;

    public HelpWithEpilogueAction(HelpAction help, string rootEpilogue)
    {
        _help = help;
        _rootEpilogue = rootEpilogue;
    }

    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var exitCode = _help.Invoke(parseResult);
        var epilogue = parseResult.CommandResult.Command switch
        {
            VerbCommand verb => verb.HelpEpilogue,
            RootCommand => _rootEpilogue,
            _ => null,
        };
        if (epilogue is not null)
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(epilogue.TrimEnd());
            output.WriteLine();
        }

        return exitCode;
    }
}
