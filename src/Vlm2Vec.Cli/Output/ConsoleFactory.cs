using Spectre.Console;

namespace Vlm2Vec.Cli.Output;

/// <summary>Creates the Spectre.Console consoles of a run over the writers of a <see cref="CliEnvironment"/>.</summary>
internal static class ConsoleFactory
{
    /// <summary>
    /// Width given to a console that is not a terminal. Spectre wraps text at the console width; a redirected stream has
    /// no width, and wrapping there would split an error line or a path that a script reads.
    /// </summary>
    private const int RedirectedWidth = 4096;

    public static IAnsiConsole Create(TextWriter writer, bool isTerminal, bool detectAnsi, bool noColor, int? terminalWidth)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = !isTerminal ? AnsiSupport.No : detectAnsi ? AnsiSupport.Detect : AnsiSupport.Yes,
            ColorSystem = noColor ? ColorSystemSupport.NoColors : isTerminal && !detectAnsi ? ColorSystemSupport.Standard : ColorSystemSupport.Detect,
            Interactive = isTerminal ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!isTerminal)
        {
            console.Profile.Width = RedirectedWidth;
        }
        else if (terminalWidth is { } width)
        {
            console.Profile.Width = width;
        }

        return console;
    }
}
