using System.Globalization;
using System.Text.RegularExpressions;
using Vlm2Vec.TestSupport.Hub;

namespace Vlm2Vec.Cli.Tests;

public sealed partial class PullCommandTests : IDisposable
{
    private readonly CliTestHub _hub = new();

    public void Dispose() => _hub.Dispose();

    [Fact]
    public async Task Pull_downloads_the_model_files_and_prints_the_snapshot_folder_alone_on_stdout()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs());

        Assert.True(result.ExitCode == 0, result.ToString());
        var folder = _hub.SnapshotFolder(_hub.MainCommit);
        Assert.Equal(folder + Environment.NewLine, result.Out);
        var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(FakeModelFiles.DefaultSelection.Order(StringComparer.Ordinal), files);
        foreach (var name in files)
        {
            Assert.Equal(_hub.MainFiles[name], await File.ReadAllBytesAsync(Path.Combine(folder, name)));
        }
    }

    [Fact]
    public async Task Pull_summary_counts_downloaded_files_then_cached_files_on_a_second_run()
    {
        var totalBytes = FakeModelFiles.DefaultSelection.Sum(name => (long)_hub.MainFiles[name].Length);
        var fileCount = FakeModelFiles.DefaultSelection.Length;

        var first = await CliHarness.RunAsync(_hub.PullArgs());
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal((fileCount, totalBytes), SummaryRow(first.Error, "downloaded"));
        Assert.Equal((0, 0L), SummaryRow(first.Error, "cached"));
        Assert.Equal((fileCount, totalBytes), SummaryRow(first.Error, "total"));
        foreach (var name in FakeModelFiles.DefaultSelection)
        {
            Assert.Contains($"{name}: downloaded", first.Error, StringComparison.Ordinal); // plain progress lines (stderr redirected)
        }

        var bodiesAfterFirst = _hub.Server.Requests.Count(r => r.Method == "GET" && r.RepoPath is not null);
        var second = await CliHarness.RunAsync(_hub.PullArgs());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(first.Out, second.Out);
        Assert.Equal((0, 0L), SummaryRow(second.Error, "downloaded"));
        Assert.Equal((fileCount, totalBytes), SummaryRow(second.Error, "cached"));
        Assert.Contains("config.json: cached", second.Error, StringComparison.Ordinal);
        Assert.Equal(bodiesAfterFirst, _hub.Server.Requests.Count(r => r.Method == "GET" && r.RepoPath is not null));
    }

    [Fact]
    public async Task Include_patterns_replace_the_model_selection()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--include", "*.json", "--include", "README.md"]));

        Assert.True(result.ExitCode == 0, result.ToString());
        var folder = result.Out.Trim();
        var expected = _hub.MainFiles.Keys.Where(k => k.EndsWith(".json", StringComparison.Ordinal) || k == "README.md").Order(StringComparer.Ordinal);
        var actual = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual); // '*' crosses '/', as fnmatch does: eval/mmeb_score.json is taken
    }

    [Fact]
    public async Task Exclude_patterns_narrow_the_model_selection()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--exclude", "tokenizer*", "--exclude", "model-00002*"]));

        Assert.True(result.ExitCode == 0, result.ToString());
        var folder = result.Out.Trim();
        var expected = FakeModelFiles.DefaultSelection
            .Where(n => !n.StartsWith("tokenizer", StringComparison.Ordinal) && n != FakeModelFiles.Shard2)
            .Order(StringComparer.Ordinal);
        var actual = Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Revision_selects_the_tagged_commit()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--revision", "v1.0", "--include", "config.json"]));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(_hub.SnapshotFolder(_hub.TagCommit), result.Out.Trim());
        Assert.Equal(_hub.TagFiles["config.json"], await File.ReadAllBytesAsync(Path.Combine(result.Out.Trim(), "config.json")));
        Assert.Contains("@ v1.0", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quiet_prints_only_the_folder()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--quiet"]));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Error);
        Assert.Equal(_hub.SnapshotFolder(_hub.MainCommit), Assert.Single(result.OutLines));
    }

    [Fact]
    public async Task On_a_terminal_progress_is_drawn_with_ansi_bars_and_stdout_still_holds_only_the_folder()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(), terminal: true);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("\u001b[", result.Error, StringComparison.Ordinal);
        Assert.Contains(FakeModelFiles.Shard1, result.Error, StringComparison.Ordinal);
        Assert.Contains("100%", result.Error, StringComparison.Ordinal);
        Assert.Equal(_hub.SnapshotFolder(_hub.MainCommit), Assert.Single(result.OutLines));
    }

    [Fact]
    public async Task On_a_terminal_progress_uses_colour_unless_told_not_to()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(), terminal: true);

        Assert.True(HasColourCode(result.Error), result.Error); // the check below is not vacuous
    }

    [Fact]
    public async Task No_color_on_a_terminal_still_draws_progress_but_without_colour_codes()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--no-color"]), terminal: true);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(HasColourCode(result.Error), result.Error);
        Assert.Contains(FakeModelFiles.Shard1, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_NO_COLOR_variable_turns_colour_off_like_the_option()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(), new Dictionary<string, string> { ["NO_COLOR"] = "1" }, terminal: true);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(HasColourCode(result.Error), result.Error);
    }

    [Fact]
    public async Task Quiet_also_silences_warnings()
    {
        _hub.Server.Faults[FakeModelFiles.Shard1] = new FileFault { InterruptAfterBytes = 100_000, InterruptTimes = 1 };

        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["-q"]));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Error);
        Assert.Contains(_hub.Server.Requests, r => r.Cdn && r.Range is not null); // the cut transfer was resumed, silently
    }

    [Fact]
    public async Task Token_env_sends_the_named_variable_as_the_token()
    {
        _hub.Repo.PrivateToken = "secret-token";
        _hub.Server.ValidTokens.Add("secret-token");

        var anonymous = await CliHarness.RunAsync(_hub.PullArgs());
        var withToken = await CliHarness.RunAsync(
            _hub.PullArgs(extra: ["--token-env", "MY_HUB_TOKEN"]),
            new Dictionary<string, string> { ["MY_HUB_TOKEN"] = "secret-token" });

        Assert.Equal(ExitCodes.NetworkError, anonymous.ExitCode);
        Assert.True(withToken.ExitCode == 0, withToken.ToString());
        Assert.Contains(_hub.Server.Requests, r => !r.Cdn && r.Authorization == "Bearer secret-token");
        Assert.DoesNotContain(_hub.Server.Requests, r => r.Cdn && r.Authorization is not null); // never sent to the CDN
    }

    [Fact]
    public async Task Offline_with_a_complete_cache_returns_the_cached_snapshot_without_any_request()
    {
        var online = await CliHarness.RunAsync(_hub.PullArgs());
        Assert.True(online.ExitCode == 0, online.ToString());
        var requests = _hub.Server.Requests.Count;

        var offline = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--offline"]));

        Assert.True(offline.ExitCode == 0, offline.ToString());
        Assert.Equal(online.Out, offline.Out);
        Assert.Equal(requests, _hub.Server.Requests.Count);
        var totalBytes = FakeModelFiles.DefaultSelection.Sum(name => (long)_hub.MainFiles[name].Length);
        Assert.Equal((FakeModelFiles.DefaultSelection.Length, totalBytes), SummaryRow(offline.Error, "cached"));
        Assert.Contains("offline", offline.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_logs_debug_messages_to_stderr()
    {
        var result = await CliHarness.RunAsync(_hub.PullArgs(extra: ["--verbose"]));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("dbug:", result.Error, StringComparison.Ordinal);
        Assert.Contains($"Pulling '{CliTestHub.RepoId}' at 'main' from {_hub.Server.Endpoint}", result.Error, StringComparison.Ordinal);
        Assert.Equal(_hub.SnapshotFolder(_hub.MainCommit), Assert.Single(result.OutLines));
    }

    [Fact]
    public async Task Warnings_from_the_hub_client_reach_stderr_as_log_lines()
    {
        // The transfer of the first shard is cut once: the client logs a warning and resumes it.
        _hub.Server.Faults[FakeModelFiles.Shard1] = new FileFault { InterruptAfterBytes = 100_000, InterruptTimes = 1 };

        var result = await CliHarness.RunAsync(_hub.PullArgs());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.ErrorLines, l => l.StartsWith("warn: ", StringComparison.Ordinal) && l.Contains(FakeModelFiles.Shard1, StringComparison.Ordinal));
        Assert.Equal(_hub.MainFiles[FakeModelFiles.Shard1], await File.ReadAllBytesAsync(Path.Combine(result.Out.Trim(), FakeModelFiles.Shard1)));
    }

    /// <summary>The file count and exact byte count of one row of the pull summary table.</summary>
    private static (int Files, long Bytes) SummaryRow(string stderr, string label)
    {
        var line = stderr.Split('\n').Single(l => Regex.IsMatch(l, $@"^\W*{label}\W", RegexOptions.None));
        var cells = line.Split(['│', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(c => c.Length > 0).ToArray();
        Assert.Equal(label, cells[0]);
        return (int.Parse(cells[1], CultureInfo.InvariantCulture), long.Parse(cells[3], CultureInfo.InvariantCulture));
    }

    /// <summary>Whether <paramref name="text"/> holds an SGR sequence that sets a foreground or background colour.</summary>
    private static bool HasColourCode(string text)
    {
        foreach (Match sequence in Sgr().Matches(text))
        {
            foreach (var parameter in sequence.Groups[1].Value.Split(';'))
            {
                if (int.TryParse(parameter, CultureInfo.InvariantCulture, out var code) && code is (>= 30 and <= 49) or (>= 90 and <= 107))
                {
                    return true;
                }
            }
        }

        return false;
    }

    [GeneratedRegex(@"\u001b\[([0-9;]*)m")]
    private static partial Regex Sgr();
}
