using System.Reflection;
using Vlm2Vec.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/Vlm2Vec.Benchmarks -- <name> [args...]   |   list
var benchmarks = typeof(Program).Assembly.GetTypes()
    .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IBenchmark).IsAssignableFrom(t))
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

if (args.Length == 0 || args[0] is "list" or "--help" or "-h")
{
    Console.WriteLine("Benchmarks (dotnet run -c Release --project benchmarks/Vlm2Vec.Benchmarks -- <name> [args]):");
    foreach (var b in benchmarks)
    {
        Console.WriteLine($"  {b.Name,-28} {b.Description}");
    }

    return 0;
}

var selected = benchmarks.FirstOrDefault(b => b.Name == args[0]);
if (selected is null)
{
    Console.Error.WriteLine($"Unknown benchmark '{args[0]}'. Run with 'list' to see them.");
    return 2;
}

Console.WriteLine($"# {selected.Name}: {selected.Description}");
Console.WriteLine($"# {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
await selected.RunAsync(new BenchmarkContext(), args[1..]);
return 0;

/// <summary>Entry point type (named for reflection).</summary>
internal sealed partial class Program
{
}
