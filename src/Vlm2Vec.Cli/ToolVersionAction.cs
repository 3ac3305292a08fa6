using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;

namespace Vlm2Vec.Cli;

/// <summary>
/// <c>--version</c>: prints the tool's version. Replaces the default action, which prints the version of the process's
/// entry assembly (the test host's, when the tool runs in-process).
/// </summary>
internal sealed class ToolVersionAction : SynchronousCommandLineAction
{
    /// <summary>The tool's informational version (with the source commit when the build knows it).</summary>
    public static string Version { get; } =
        typeof(ToolVersionAction).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ??
        typeof(ToolVersionAction).Assembly.GetName().Version?.ToString() ?? "unknown";

    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        parseResult.InvocationConfiguration.Output.WriteLine(Version);
        return ExitCodes.Success;
    }
}
