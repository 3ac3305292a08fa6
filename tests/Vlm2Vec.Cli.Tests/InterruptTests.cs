using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Vlm2Vec.Cli.Tests;

/// <summary>Ctrl+C as the real process gets it: SIGINT sent to the built tool while it downloads from a slow fake hub.</summary>
public sealed class InterruptTests : IDisposable
{
    private const int SigInt = 2; // the same on Linux and macOS
    private readonly CliTestHub _hub = new();

    public void Dispose() => _hub.Dispose();

    [Fact]
    [Trait("Category", "Process")]
    public async Task Sigint_cancels_the_download_and_exits_130_with_one_error_line()
    {
        Assert.False(OperatingSystem.IsWindows(), "This test sends SIGINT with kill(2); it runs on Linux and macOS.");
        _hub.Server.ChunkDelay = TimeSpan.FromMilliseconds(200); // the first shard takes 5 s: time to interrupt it
        var tool = Path.Combine(AppContext.BaseDirectory, "vlm2vec.dll");
        using var child = new ChildProcess(RepositoryFiles.DotnetHost, [tool, .. _hub.PullArgs()], start =>
        {
            foreach (var name in new[] { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT" })
            {
                start.Environment.Remove(name);
            }
        });

        var waited = Stopwatch.StartNew();
        while (!_hub.Server.Requests.Any(r => r.Cdn) && waited.Elapsed < TimeSpan.FromSeconds(60) && !child.Process.HasExited)
        {
            await Task.Delay(20);
        }

        Assert.False(child.Process.HasExited, $"The tool ended before the download started.\n{child.Out}\n{child.Error}");
        Assert.Equal(0, Kill(child.Process.Id, SigInt));

        var exitCode = await child.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == ExitCodes.Interrupted, $"exit {exitCode}\n{child.Out}\n{child.Error}");
        Assert.Equal(string.Empty, child.Out);
        Assert.Contains("press Ctrl+C again", child.Error, StringComparison.Ordinal);
        Assert.Contains("error: interrupted.", child.Error, StringComparison.Ordinal);
        Assert.False(TestText.HasStackFrame(child.Error), child.Error);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
