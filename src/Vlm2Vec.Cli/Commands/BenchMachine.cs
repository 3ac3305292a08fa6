using System.Globalization;
using System.Runtime.InteropServices;

namespace Vlm2Vec.Cli.Commands;

/// <summary>The machine a <c>vlm2vec bench</c> ran on: what its figures depend on.</summary>
/// <param name="LogicalCores">Logical processors the process may use.</param>
/// <param name="OperatingSystem">The OS description.</param>
/// <param name="Architecture">The process architecture (x64, arm64).</param>
/// <param name="Runtime">The .NET runtime.</param>
/// <param name="LoadAverageStart">1, 5 and 15-minute load averages before the run (<c>/proc/loadavg</c>); null where unavailable.</param>
/// <param name="LoadAverageEnd">The same after the run.</param>
internal sealed record BenchMachine(
    int LogicalCores,
    string OperatingSystem,
    string Architecture,
    string Runtime,
    double[]? LoadAverageStart,
    double[]? LoadAverageEnd)
{
    /// <summary>The facts of this process's machine, with the load average as it is now.</summary>
    public static BenchMachine Current() => new(
        Environment.ProcessorCount,
        RuntimeInformation.OSDescription,
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
        RuntimeInformation.FrameworkDescription,
        LoadAverage(),
        null);

    /// <summary>The 1, 5 and 15-minute load averages from <c>/proc/loadavg</c>; null where there is none (not Linux).</summary>
    public static double[]? LoadAverage()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length >= 3
                ? [.. fields.Take(3).Select(f => double.Parse(f, CultureInfo.InvariantCulture))]
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Load averages as <c>1.23 0.98 0.75</c>, or <c>n/a</c>.</summary>
    public static string Describe(double[]? load) =>
        load is null ? "n/a" : string.Join(' ', load.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)));
}
