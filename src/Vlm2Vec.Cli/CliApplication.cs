using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using Vlm2Vec.Cli.Commands;

namespace Vlm2Vec.Cli;

/// <summary>Builds the <c>vlm2vec</c> command tree and runs one command line: parse, invoke, map errors to exit codes.</summary>
internal static class CliApplication
{
    /// <summary>The name the tool is installed under.</summary>
    public const string ToolName = "vlm2vec";

    /// <summary>Every verb, in help order. Adding a verb: a class under Commands/ and one line here.</summary>
    public static IReadOnlyList<Func<CliRun, VerbCommand>> Verbs { get; } =
    [
        run => new PullCommand(run),
        run => new ConvertCommand(run),
        run => new TrainCommand(run),
        run => new InfoCommand(run),
        run => new ServeCommand(run),
        run => new EvalCommand(run),
        run => new EmbedCommand(run),
        run => new IndexCommand(run),
        run => new SearchCommand(run),
        run => new DemoCommand(run),
        run => new BenchCommand(run),
    ];

    /// <summary>Verbs of the product that are not implemented yet (listed in the root help and docs/cli.md); none left.</summary>
    public static IReadOnlyList<string> PlannedVerbs { get; } = [];

    /// <summary>Parses and runs <paramref name="args"/>; returns the process exit code. Never throws for a failing verb.</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        using var run = new CliRun(environment);
        var root = BuildRootCommand(run);
        var parseResult = root.Parse(args);
        var context = run.ContextFor(parseResult);
        if (parseResult.Action is ParseErrorAction)
        {
            CliErrorHandler.WriteErrorLine(context.Error, DescribeParseErrors(parseResult));
            return ExitCodes.UsageError;
        }

        var configuration = new InvocationConfiguration
        {
            Output = environment.Out,
            Error = environment.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // Ctrl+C is handled by ConsoleInterruptHandler: first press cancels, second kills.
        };
        try
        {
            return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Every failure of a verb becomes an exit code and one line; nothing may escape as a crash.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return CliErrorHandler.Report(ex, context, cancellationToken);
        }
    }

    /// <summary>The root command with the global options, every verb, and help that ends with the exit codes.</summary>
    public static RootCommand BuildRootCommand(CliRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var root = new RootCommand(
            "vlm2vec: universal multimodal embeddings (VLM2Vec on Qwen2-VL) from the command line. " +
            "Results go to stdout; progress, summaries and errors to stderr.");
        run.Globals.AddTo(root);
        foreach (var verb in Verbs)
        {
            root.Subcommands.Add(verb(run));
        }

        foreach (var option in root.Options)
        {
            if (option is HelpOption { Action: HelpAction help } helpOption)
            {
                helpOption.Action = new HelpWithEpilogueAction(help, RootEpilogue());
            }
            else if (option is VersionOption versionOption)
            {
                versionOption.Action = new ToolVersionAction();
            }
        }

        return root;
    }

    /// <summary>The text after the root command's options: planned verbs, exit codes, where the docs are.</summary>
    internal static string RootEpilogue()
    {
        var text = new StringBuilder();
        if (PlannedVerbs.Count > 0)
        {
            text.AppendLine("Planned commands (not available yet):");
            text.Append("  ").AppendJoin(", ", PlannedVerbs).AppendLine();
            text.AppendLine();
        }

        text.AppendLine("Exit codes:");
        foreach (var (code, meaning) in ExitCodes.Table)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {code,3}  {meaning}").AppendLine();
        }

        text.AppendLine();
        text.Append("Run 'vlm2vec <command> --help' for a command's options; docs/cli.md has the full guide.");
        return text.ToString();
    }

    /// <summary>
    /// One line for a command line that did not parse. Only the most telling errors are shown: a value that looks like
    /// an unknown option, then unknown words (which also make System.CommandLine report missing ones), then the rest.
    /// </summary>
    private static string DescribeParseErrors(ParseResult parseResult)
    {
        var unmatched = parseResult.UnmatchedTokens;
        var best = int.MaxValue;
        var messages = new List<string>();
        foreach (var error in parseResult.Errors)
        {
            var rank = error.Message.StartsWith(UnknownOptionPrefix, StringComparison.Ordinal) ? 0
                : unmatched.Any(token => error.Message.Contains($"'{token}'", StringComparison.Ordinal)) ? 1
                : 2;
            if (rank < best)
            {
                best = rank;
                messages.Clear();
            }

            if (rank == best && !messages.Contains(error.Message))
            {
                messages.Add(error.Message);
            }
        }

        var commandPath = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            commandPath.Insert(0, result.Command is RootCommand ? ToolName : result.Command.Name);
        }

        var text = new StringBuilder();
        foreach (var message in messages)
        {
            var trimmed = message.TrimEnd();
            text.Append(trimmed).Append(trimmed.EndsWith('.') ? " " : ". ");
        }

        if (parseResult.CommandResult.Command is RootCommand && unmatched.Count > 0 && ClosestVerb(parseResult.CommandResult.Command, unmatched[0]) is { } suggestion)
        {
            text.Append(CultureInfo.InvariantCulture, $"Did you mean '{suggestion}'? ");
        }

        text.Append(CultureInfo.InvariantCulture, $"See '{string.Join(' ', commandPath)} --help'.");
        return text.ToString();
    }

    /// <summary>Start of the error a verb adds when a value that should be an argument looks like an option.</summary>
    internal const string UnknownOptionPrefix = "Unknown option";

    /// <summary>The verb within two edits of <paramref name="word"/>, if one is.</summary>
    private static string? ClosestVerb(Command root, string word)
    {
        string? closest = null;
        var closestDistance = 3;
        foreach (var verb in root.Subcommands)
        {
            var distance = EditDistance(word, verb.Name);
            if (distance < closestDistance)
            {
                closest = verb.Name;
                closestDistance = distance;
            }
        }

        return closest;
    }

    /// <summary>Levenshtein distance of two short words (typo suggestions only).</summary>
    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1);
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), substitution);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
