namespace Vlm2Vec.Cli;

/// <summary>The process exit codes of <c>vlm2vec</c>; the same table is in the root <c>--help</c> and in docs/cli.md.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>Anything not covered by a more precise code (an unexpected error, a bug).</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: unknown verb or option, a missing or malformed argument.</summary>
    public const int UsageError = 2;

    /// <summary>An input file or item is missing, unreadable or invalid (image, text, data file).</summary>
    public const int InputError = 3;

    /// <summary>Model files are missing, corrupt or not a supported model.</summary>
    public const int ModelError = 4;

    /// <summary>The hub or another server could not be reached or refused the request (not found, no access, offline cache miss).</summary>
    public const int NetworkError = 5;

    /// <summary>Interrupted by Ctrl+C (SIGINT); 128 + 2 as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>Every code with a one-line meaning, in order, for help texts.</summary>
    public static IReadOnlyList<(int Code, string Meaning)> Table { get; } =
    [
        (Success, "success"),
        (Failure, "failure (unexpected error)"),
        (UsageError, "usage error (unknown verb or option, bad argument)"),
        (InputError, "input/data error (missing, unreadable or invalid input)"),
        (ModelError, "model error (missing, corrupt or unsupported model files)"),
        (NetworkError, "network/hub error (not found, no access, unreachable, offline cache miss)"),
        (Interrupted, "interrupted (Ctrl+C)"),
    ];
}
