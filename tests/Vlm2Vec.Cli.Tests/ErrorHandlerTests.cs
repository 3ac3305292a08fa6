using System.Net.Sockets;
using Vlm2Vec.Hub;

namespace Vlm2Vec.Cli.Tests;

public sealed class ErrorHandlerTests
{
    public static TheoryData<Exception, int> Mappings => new()
    {
        { new InvalidInputException("no text and no image"), ExitCodes.InputError },
        { new InputTooLongException("too long", 9000, 8192), ExitCodes.InputError },
        { new ImageDecodeException(ImageErrorKind.Corrupt, "a.png", "corrupt"), ExitCodes.InputError },
        { new BatchItemException(3, new InvalidInputException("empty")), ExitCodes.InputError },
        { new FileNotFoundException("missing", "a.png"), ExitCodes.InputError },
        { new DirectoryNotFoundException("no folder"), ExitCodes.InputError },
        { new ModelFormatException("no config.json"), ExitCodes.ModelError },
        { new HubException(HubErrorKind.RepositoryNotFound, "not found"), ExitCodes.NetworkError },
        { new HubException(HubErrorKind.OfflineCacheMiss, "offline"), ExitCodes.NetworkError },
        { new HubException(HubErrorKind.InvalidRepositoryId, "bad id"), ExitCodes.UsageError },
        { new HttpRequestException("refused"), ExitCodes.NetworkError },
        { new SocketException(), ExitCodes.NetworkError },
        { new ArgumentException("bad value", "x"), ExitCodes.UsageError },
        { new CliUsageException("bad combination"), ExitCodes.UsageError },
        { new Microsoft.Extensions.VectorData.VectorStoreException("store in use"), ExitCodes.InputError },
        { new Search.IndexModelMismatchException("built with another model"), ExitCodes.InputError },
        { new Vlm2VecException("other library error"), ExitCodes.Failure },
        { new InvalidOperationException("bug"), ExitCodes.Failure },
        { new AggregateException(new ModelFormatException("inner")), ExitCodes.ModelError },
        { new OperationCanceledException(), ExitCodes.Failure }, // not cancelled by the user: a time-out, say
    };

    [Theory]
    [MemberData(nameof(Mappings))]
    public void Exceptions_map_to_the_documented_exit_codes(Exception exception, int expected)
    {
        Assert.Equal(expected, CliErrorHandler.ExitCodeOf(exception, CancellationToken.None));
    }

    [Fact]
    public void Cancellation_by_the_user_maps_to_130()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Equal(ExitCodes.Interrupted, CliErrorHandler.ExitCodeOf(new TaskCanceledException(), cancelled.Token));
    }

    [Fact]
    public void An_unexpected_exception_is_one_line_with_its_type_and_a_hint()
    {
        var (exitCode, stderr) = Report(new InvalidOperationException("something broke\nacross lines"), verbose: false);

        Assert.Equal(ExitCodes.Failure, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("error: InvalidOperationException: something broke across lines (run with --verbose for the stack trace)", line.TrimEnd());
    }

    [Fact]
    public void A_library_error_is_its_message_alone()
    {
        var (exitCode, stderr) = Report(new ModelFormatException("config.json is missing from 'x'. Convert the model first."), verbose: false);

        Assert.Equal(ExitCodes.ModelError, exitCode);
        Assert.Equal("error: config.json is missing from 'x'. Convert the model first.", stderr.TrimEnd());
    }

    [Fact]
    public void Verbose_prints_the_exception_with_its_stack_trace()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("boom");
        }
        catch (InvalidOperationException ex)
        {
            thrown = ex;
        }

        var (_, stderr) = Report(thrown, verbose: true);

        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("error: InvalidOperationException: boom", lines[0].TrimEnd());
        Assert.Contains(nameof(Verbose_prints_the_exception_with_its_stack_trace), stderr, StringComparison.Ordinal);
        Assert.True(lines.Length > 1);
    }

    private static (int ExitCode, string Stderr) Report(Exception exception, bool verbose)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var environment = new CliEnvironment { Out = stdout, Error = stderr, GetVariable = _ => null };
        using var context = new CliContext(environment, verbose, quiet: false, noColor: true);
        var exitCode = CliErrorHandler.Report(exception, context, CancellationToken.None);
        return (exitCode, stderr.ToString());
    }
}
