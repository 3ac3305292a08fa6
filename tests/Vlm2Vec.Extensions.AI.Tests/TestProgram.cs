using Vlm2Vec.Extensions.AI.Tests.VectorData;

namespace Vlm2Vec.Extensions.AI.Tests;

/// <summary>
/// The test assembly's entry point. Test runners load the assembly and never call it; the crash-safety test starts the
/// assembly as a child process (<c>dotnet Vlm2Vec.Extensions.AI.Tests.dll crash-writer …</c>) to have a real process to kill.
/// </summary>
internal static class TestProgram
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == CrashWriter.Command)
        {
            return CrashWriter.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        Console.Error.WriteLine("This is a test assembly: run it with 'dotnet test'.");
        return 2;
    }
}
