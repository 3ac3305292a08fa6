using System.Text.Json;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

public sealed class InfoCommandTests
{
    [Fact]
    public async Task Info_json_reports_versions_runtime_os_and_the_cache_folder()
    {
        using var cache = new TempFolder("vlm2vec-cli-info");

        var result = await CliHarness.RunAsync(["info", "--json", "--cache-dir", cache.Path]);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal(Path.GetFullPath(cache.Path), root.GetProperty("hubCache").GetString());
        Assert.True(root.GetProperty("hubCacheExists").GetBoolean());
        Assert.StartsWith("0.", root.GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("0.", root.GetProperty("coreVersion").GetString(), StringComparison.Ordinal);
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, root.GetProperty("runtime").GetString());
        Assert.Contains(System.Runtime.InteropServices.RuntimeInformation.OSDescription, root.GetProperty("os").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("http", root.GetProperty("hubEndpoint").GetString(), StringComparison.Ordinal);
        Assert.True(root.GetProperty("offline").ValueKind is JsonValueKind.True or JsonValueKind.False);
    }

    [Fact]
    public async Task Info_table_shows_the_same_facts()
    {
        using var cache = new TempFolder("vlm2vec-cli-info");
        var missing = cache.Combine("not-created");

        var result = await CliHarness.RunAsync(["info", "--cache-dir", missing]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(missing, result.Out, StringComparison.Ordinal);
        Assert.Contains(".NET runtime", result.Out, StringComparison.Ordinal);
        Assert.Contains(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, result.Out, StringComparison.Ordinal);
        Assert.Matches(@"hub cache exists\W+no", result.Out);
    }
}
