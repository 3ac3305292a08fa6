using Vlm2Vec.Hub;

namespace Vlm2Vec.Cli;

/// <summary>
/// What a run of the tool sees of its process: the standard output and error writers, whether each is a terminal, and
/// environment variables. The real process uses <see cref="FromProcess"/>; tests pass string writers and a dictionary.
/// </summary>
internal sealed class CliEnvironment
{
    /// <summary>Where results go (the snapshot path, tables, JSON).</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Where errors, warnings, logs and progress go.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Whether <see cref="Out"/> is an interactive terminal (not redirected to a file or pipe).</summary>
    public bool OutIsTerminal { get; init; }

    /// <summary>Whether <see cref="Error"/> is an interactive terminal (progress bars are drawn only then).</summary>
    public bool ErrorIsTerminal { get; init; }

    /// <summary>
    /// On a terminal, let Spectre.Console detect ANSI support (<see langword="true"/>, the real process) or assume it
    /// (<see langword="false"/>, tests that render the interactive progress display into a string).
    /// </summary>
    public bool DetectAnsi { get; init; } = true;

    /// <summary>The terminal width to render for, instead of the detected one (tests).</summary>
    public int? TerminalWidth { get; init; }

    /// <summary>Reads an environment variable; <see langword="null"/> when unset.</summary>
    public Func<string, string?> GetVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>Applied to every <see cref="HubClientOptions"/> after the command line (tests: no token from the process environment, fast retries).</summary>
    public Action<HubClientOptions>? ConfigureHubClient { get; init; }

    /// <summary>
    /// The engines a <c>--model</c> folder of <c>eval</c> is opened with, the first that can open it wins (tests: a fake
    /// engine). Null: the engines the tool carries (<see cref="Commands.ServeModelLoader.Engines"/>).
    /// </summary>
    public IReadOnlyList<IVlm2VecEncoderFactory>? EncoderFactories { get; init; }

    /// <summary>The current process's console.</summary>
    public static CliEnvironment FromProcess() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        OutIsTerminal = !Console.IsOutputRedirected,
        ErrorIsTerminal = !Console.IsErrorRedirected,
    };
}
