using System.CommandLine;

namespace Vlm2Vec.Cli;

/// <summary>The options every verb accepts (recursive options of the root command).</summary>
internal sealed class GlobalOptions
{
    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Show debug logging and, on failure, the full stack trace.",
        Recursive = true,
    };

    public Option<bool> Quiet { get; } = new("--quiet", "-q")
    {
        Description = "Print only results and errors: no progress, no summaries, no warnings.",
        Recursive = true,
    };

    public Option<bool> NoColor { get; } = new("--no-color")
    {
        Description = "Do not use colours (also when NO_COLOR is set).",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Verbose);
        command.Options.Add(Quiet);
        command.Options.Add(NoColor);
    }
}
