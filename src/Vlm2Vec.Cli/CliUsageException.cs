namespace Vlm2Vec.Cli;

/// <summary>
/// A command line that parsed but makes no sense (an option naming an unset variable, options that exclude each other).
/// Reported as one line with exit code <see cref="ExitCodes.UsageError"/>.
/// </summary>
internal sealed class CliUsageException : Exception
{
    public CliUsageException()
    {
    }

    public CliUsageException(string message)
        : base(message)
    {
    }

    public CliUsageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
