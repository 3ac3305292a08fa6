using Vlm2Vec.Hub;

namespace Vlm2Vec.Cli.Tests;

/// <summary>Runs the root command in-process with captured stdout/stderr and a controlled environment.</summary>
internal static class CliHarness
{
    /// <summary>
    /// Runs <paramref name="args"/>. The hub client gets no token from the process environment (unless the command line
    /// gives one) and fast retries; <paramref name="terminal"/> makes both streams look like an ANSI terminal.
    /// </summary>
    public static async Task<CliRunResult> RunAsync(
        string[] args,
        IReadOnlyDictionary<string, string>? environment = null,
        bool terminal = false,
        CancellationToken cancellationToken = default,
        StringWriter? stdout = null,
        IReadOnlyList<IVlm2VecEncoderFactory>? engines = null)
    {
        // A caller-supplied stdout can be read while the command runs (serve prints its address, then keeps going).
        stdout ??= new StringWriter();
        using var stderr = new StringWriter();
        var syncOut = TextWriter.Synchronized(stdout);
        var syncError = TextWriter.Synchronized(stderr);
        var cli = new CliEnvironment
        {
            Out = syncOut,
            Error = syncError,
            OutIsTerminal = terminal,
            ErrorIsTerminal = terminal,
            DetectAnsi = false,
            TerminalWidth = 120,
            GetVariable = name => environment?.GetValueOrDefault(name),
            ConfigureHubClient = ConfigureForTests,
            EncoderFactories = engines,
        };
        var exitCode = await CliApplication.RunAsync(args, cli, cancellationToken);
        syncOut.Flush();
        syncError.Flush();
        return new CliRunResult(exitCode, stdout.ToString(), stderr.ToString());
    }

    public static void ConfigureForTests(HubClientOptions options)
    {
        options.Token ??= string.Empty;
        options.MaxRetries = 1;
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(5);
        options.RequestTimeout = TimeSpan.FromSeconds(20);
        options.ReadTimeout = TimeSpan.FromSeconds(20);
    }
}
