namespace Vlm2Vec.Cli.Tests;

public sealed class HelpAndUsageTests
{
    [Fact]
    public async Task Root_help_lists_verbs_global_options_and_exit_codes()
    {
        var result = await CliHarness.RunAsync(["--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Error);
        foreach (var expected in new[] { "pull <repo-id>", "info", "--verbose", "--quiet", "--no-color", "--version", "Exit codes:" })
        {
            Assert.Contains(expected, result.Out, StringComparison.Ordinal);
        }

        foreach (var (code, meaning) in ExitCodes.Table)
        {
            Assert.Contains($"{code,3}  {meaning}", result.Out, StringComparison.Ordinal);
        }

        // The planned-verbs paragraph appears only while some verb is still planned.
        Assert.Equal(CliApplication.PlannedVerbs.Count > 0, result.Out.Contains("Planned commands", StringComparison.Ordinal));
        foreach (var planned in CliApplication.PlannedVerbs)
        {
            Assert.Contains(planned, result.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Pull_help_lists_its_argument_options_and_examples()
    {
        var result = await CliHarness.RunAsync(["pull", "--help"]);

        Assert.Equal(0, result.ExitCode);
        foreach (var expected in new[]
                 {
                     "<repo-id>", "--revision", "[default: main]", "--include", "--exclude", "--cache-dir", "--endpoint", "--token-env", "--offline",
                     "--verbose", "Examples:", "vlm2vec pull TIGER-Lab/VLM2Vec-Qwen2VL-2B",
                 })
        {
            Assert.Contains(expected, result.Out, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Exit codes:", result.Out, StringComparison.Ordinal); // the table is the root's epilogue
    }

    [Fact]
    public async Task Info_help_lists_its_options()
    {
        var result = await CliHarness.RunAsync(["info", "-h"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--json", result.Out, StringComparison.Ordinal);
        Assert.Contains("--cache-dir", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_wins_over_a_missing_argument()
    {
        var result = await CliHarness.RunAsync(["pull", "--help", "--revision"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--token-env", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_tool_version()
    {
        var result = await CliHarness.RunAsync(["--version"]);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("0.", result.Out.Trim(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "frob" }, "'frob'")]
    [InlineData(new[] { "pull", "test-org/model", "--bogus" }, "'--bogus'")]
    [InlineData(new[] { "pull", "--bogus", "test-org/model" }, "Unknown option '--bogus'")]
    [InlineData(new[] { "pull" }, "Required argument missing")]
    [InlineData(new[] { "pull", "test-org/model", "--revision" }, "--revision")]
    [InlineData(new[] { "info", "extra" }, "'extra'")]
    [InlineData(new string[0], "Required command was not provided")]
    public async Task Usage_errors_exit_2_with_one_line_on_stderr(string[] args, string expected)
    {
        var result = await CliHarness.RunAsync(args);

        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Equal(string.Empty, result.Out);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Contains("--help'", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misspelt_verb_gets_a_suggestion()
    {
        var result = await CliHarness.RunAsync(["pul", "test-org/model"]);

        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("Did you mean 'pull'?", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_usage_error_names_the_verb_whose_help_to_read()
    {
        var result = await CliHarness.RunAsync(["pull", "test-org/model", "--bogus"]);

        Assert.Contains("See 'vlm2vec pull --help'.", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }
}
