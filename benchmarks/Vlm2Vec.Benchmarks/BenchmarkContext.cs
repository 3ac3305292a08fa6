using System.Diagnostics;

namespace Vlm2Vec.Benchmarks;

/// <summary>Shared helpers for benchmarks: data location, timing, peak memory, report lines.</summary>
internal sealed class BenchmarkContext
{
    /// <summary>The shared data folder (<c>../shared/data</c> or <c>VLM2VEC_SHARED_DATA</c>), when found.</summary>
    public string? SharedData { get; } = FindSharedData();

    /// <summary>Returns <c>shared/data/…</c> or throws a clear error.</summary>
    public string DataPath(params string[] parts)
    {
        if (SharedData is null)
        {
            throw new DirectoryNotFoundException("shared/data was not found beside the repository; set VLM2VEC_SHARED_DATA.");
        }

        return Path.Combine([SharedData, .. parts]);
    }

    /// <summary>Runs <paramref name="action"/> repeatedly for at least <paramref name="minSeconds"/> (after one warm-up call) and returns calls per second.</summary>
    public static double MeasureRate(Action action, double minSeconds = 3, int minIterations = 3)
    {
        action();
        var sw = Stopwatch.StartNew();
        var n = 0;
        while (n < minIterations || sw.Elapsed.TotalSeconds < minSeconds)
        {
            action();
            n++;
        }

        return n / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Peak resident set size of this process so far, in MiB (Linux VmHWM; 0 elsewhere).</summary>
    public static double PeakWorkingSetMiB()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                    return kb / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>Resets the peak RSS counter (Linux: writes 5 to /proc/self/clear_refs), so the next reading covers what follows.</summary>
    public static void ResetPeakWorkingSet()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Prints a report line.</summary>
    public static void Report(string line) => Console.WriteLine(line);

    private static string? FindSharedData()
    {
        var env = Environment.GetEnvironmentVariable("VLM2VEC_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
        {
            return env;
        }

        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
