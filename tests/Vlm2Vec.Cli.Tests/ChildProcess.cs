using System.Diagnostics;
using System.Text;

namespace Vlm2Vec.Cli.Tests;

/// <summary>A started child process with its stdout and stderr collected as they arrive.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _error = new();

    public ChildProcess(string fileName, IEnumerable<string> arguments, Action<ProcessStartInfo>? configure = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        configure?.Invoke(start);
        Process = new Process { StartInfo = start };
        Process.OutputDataReceived += (_, e) => Append(_out, e.Data);
        Process.ErrorDataReceived += (_, e) => Append(_error, e.Data);
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Out
    {
        get
        {
            lock (_out)
            {
                return _out.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Waits for the exit (killing the process after <paramref name="timeout"/>) and returns the exit code.</summary>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{Process.StartInfo.FileName}' did not exit within {timeout}.\nstdout:\n{Out}\nstderr:\n{Error}");
        }

        Process.WaitForExit(); // flushes the asynchronous output readers
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }

        Process.Dispose();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }
}
