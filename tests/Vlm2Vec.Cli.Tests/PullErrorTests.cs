namespace Vlm2Vec.Cli.Tests;

public sealed class PullErrorTests : IDisposable
{
    private readonly CliTestHub _hub = new();

    public void Dispose() => _hub.Dispose();

    [Fact]
    public async Task A_missing_repository_exits_5_with_one_line_and_no_stack_trace()
    {
        _hub.Server.ValidTokens.Add("valid-token");

        var result = await CliHarness.RunAsync(
            _hub.PullArgs("test-org/does-not-exist", "--token-env", "HUB_TOKEN"),
            new Dictionary<string, string> { ["HUB_TOKEN"] = "valid-token" });

        Assert.Equal(ExitCodes.NetworkError, result.ExitCode);
        Assert.Equal(string.Empty, result.Out);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains("test-org/does-not-exist", line, StringComparison.Ordinal);
        Assert.False(TestText.HasStackFrame(result.Error), result.Error);
        Assert.Contains(_hub.Server.Requests, r => r.Status == 404);
    }

    [Fact]
    public async Task A_missing_repository_asked_for_anonymously_also_exits_5()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs("test-org/does-not-exist"));

        Assert.Equal(ExitCodes.NetworkError, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("test-org/does-not-exist", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_adds_the_stack_trace_after_the_error_line()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs("test-org/does-not-exist", "--verbose"));

        Assert.Equal(ExitCodes.NetworkError, result.ExitCode);
        Assert.StartsWith("error: ", result.ErrorLines.First(l => !l.StartsWith("dbug:", StringComparison.Ordinal) && !l.StartsWith("warn:", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("HubException", result.Error, StringComparison.Ordinal);
        Assert.True(TestText.HasStackFrame(result.Error), result.Error);
        Assert.Contains("at Vlm2Vec.Hub.", result.Error, StringComparison.Ordinal); // a frame of the hub client
    }

    [Fact]
    public async Task An_unknown_revision_exits_5()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--revision", "no-such-branch"]));

        Assert.Equal(ExitCodes.NetworkError, result.ExitCode);
        Assert.Contains("no-such-branch", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offline_without_a_cached_snapshot_is_a_clear_error_and_touches_no_network()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--offline"]));

        Assert.Equal(ExitCodes.NetworkError, result.ExitCode);
        Assert.Equal(string.Empty, result.Out);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("Offline mode is on", line, StringComparison.Ordinal);
        Assert.Contains(CliTestHub.RepoId, line, StringComparison.Ordinal);
        Assert.Contains(_hub.Cache.Path, line, StringComparison.Ordinal);
        Assert.Empty(_hub.Server.Requests);
    }

    [Fact]
    public async Task An_unreachable_hub_exits_5()
    {
        var closedPort = _hub.Server.HubPort;
        _hub.Server.Dispose();

        var result = await CliHarness.RunAsync(["pull", CliTestHub.RepoId, "--endpoint", $"http://127.0.0.1:{closedPort}", "--cache-dir", _hub.Cache.Path]);

        Assert.Equal(ExitCodes.NetworkError, result.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(result.ErrorLines, l => l.StartsWith("error: ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.False(TestText.HasStackFrame(result.Error), result.Error);
    }

    [Theory]
    [InlineData("not/a/valid/id")]
    [InlineData("org/name--with-double-dash")]
    public async Task An_invalid_repository_id_is_a_usage_error(string repoId)
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(repoId));

        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("not a valid repository id", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Empty(_hub.Server.Requests);
    }

    [Fact]
    public async Task An_endpoint_that_is_not_http_is_a_usage_error()
    {
        var result = await CliHarness.RunAsync(["pull", CliTestHub.RepoId, "--endpoint", "ftp://example.invalid", "--cache-dir", _hub.Cache.Path]);

        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("ftp://example.invalid", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_env_naming_an_unset_variable_is_a_usage_error()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--token-env", "NOT_SET_ANYWHERE"]));

        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("NOT_SET_ANYWHERE", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.Empty(_hub.Server.Requests);
    }

    [Fact]
    public async Task Cancelling_a_download_exits_130_and_prints_no_folder()
    {
        _hub.Server.ChunkDelay = TimeSpan.FromMilliseconds(100); // 400 KB in 16 KB chunks: 2.5 s for the first shard
        using var cancellation = new CancellationTokenSource();
        var started = Task.Run(async () =>
        {
            while (!_hub.Server.Requests.Any(r => r.Cdn))
            {
                await Task.Delay(10);
            }

            await cancellation.CancelAsync();
        });

        var result = await CliHarness.RunAsync(_hub.PullArgs(), cancellationToken: cancellation.Token);
        await started;

        Assert.Equal(ExitCodes.Interrupted, result.ExitCode);
        Assert.Equal(string.Empty, result.Out);
        Assert.Equal("error: interrupted.", result.ErrorLines[^1]);
        Assert.False(TestText.HasStackFrame(result.Error), result.Error);
    }

    [Fact]
    public async Task An_error_line_is_not_wrapped_however_long()
    {
        var longRepo = "test-org/" + new string('x', 90);

        var result = await CliHarness.RunAsync(_hub.PullArgs(longRepo, "--offline"));

        Assert.Equal(ExitCodes.NetworkError, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.True(line.Length > 200, line);
        Assert.Contains(longRepo, line, StringComparison.Ordinal);
    }
}
