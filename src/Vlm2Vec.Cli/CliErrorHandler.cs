using System.Net.Sockets;
using Spectre.Console;
using Vlm2Vec.Hub;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.Cli;

/// <summary>
/// Turns an exception that escaped a verb into an exit code (see <see cref="ExitCodes"/>) and one red line on stderr;
/// with <c>--verbose</c> the full exception with its stack trace follows.
/// </summary>
internal static class CliErrorHandler
{
    public static int Report(Exception exception, CliContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exception);
        exception = Unwrap(exception);
        var exitCode = ExitCodeOf(exception, cancellationToken);
        var message = exitCode == ExitCodes.Interrupted ? "interrupted." : OneLine(MessageOf(exception));
        if (exitCode == ExitCodes.Failure && !context.Verbose)
        {
            message += " (run with --verbose for the stack trace)";
        }

        WriteErrorLine(context.Error, message);
        if (context.Verbose && exitCode != ExitCodes.Interrupted)
        {
            // The plain .NET form: every frame and inner exception, easy to paste into an issue.
            context.Error.Write(new Text(exception.ToString() + "\n", new Style(Color.Grey)));
        }

        return exitCode;
    }

    /// <summary>Writes <c>error: {message}</c> in red on one line.</summary>
    public static void WriteErrorLine(IAnsiConsole console, string message)
    {
        console.Write(new Text("error: " + OneLine(message) + "\n", new Style(Color.Red)));
    }

    /// <summary>The exit code for an exception that ended a verb.</summary>
    public static int ExitCodeOf(Exception exception, CancellationToken cancellationToken) => Unwrap(exception) switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => ExitCodes.Interrupted,
        CliUsageException => ExitCodes.UsageError,
        HubException { Kind: HubErrorKind.InvalidRepositoryId } => ExitCodes.UsageError,
        HubException => ExitCodes.NetworkError,
        ModelFormatException => ExitCodes.ModelError,
        InvalidInputException or InputTooLongException or ImageDecodeException or BatchItemException or TrainingDataException => ExitCodes.InputError,
        Evaluation.EvaluationDataException => ExitCodes.InputError,
        Microsoft.Extensions.VectorData.VectorStoreException => ExitCodes.InputError, // the store file: in use, corrupt, unreadable
        Search.IndexModelMismatchException => ExitCodes.InputError,
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException => ExitCodes.InputError,
        HttpRequestException or SocketException => ExitCodes.NetworkError,
        ArgumentException => ExitCodes.UsageError,
        _ => ExitCodes.Failure,
    };

    private static string MessageOf(Exception exception) => exception switch
    {
        // Our own errors and the framework's argument/file errors carry messages written for the user.
        Vlm2VecException or CliUsageException or Search.IndexModelMismatchException or ArgumentException or IOException or UnauthorizedAccessException or HttpRequestException => exception.Message,
        Microsoft.Extensions.VectorData.VectorStoreException { InnerException: { } inner } => $"{exception.Message} {inner.Message}",
        Microsoft.Extensions.VectorData.VectorStoreException => exception.Message,
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };

    private static Exception Unwrap(Exception exception)
    {
        while (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        return exception;
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
