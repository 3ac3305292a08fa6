namespace Vlm2Vec.Benchmarks;

/// <summary>
/// One benchmark: measures throughput / latency / memory and prints a small report. Benchmarks are discovered by
/// reflection; each lives in its own file. They are measurements, never pass/fail tests.
/// </summary>
internal interface IBenchmark
{
    /// <summary>Name used on the command line (kebab-case).</summary>
    string Name { get; }

    /// <summary>One line describing what is measured.</summary>
    string Description { get; }

    /// <summary>Runs the benchmark. <paramref name="args"/> are the arguments after the name.</summary>
    Task RunAsync(BenchmarkContext context, string[] args);
}
