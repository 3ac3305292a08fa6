using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Spectre.Console;
using Vlm2Vec.Hub;

namespace Vlm2Vec.Cli.Commands;

/// <summary><c>vlm2vec info</c>: versions of the tool and library, the .NET runtime, the OS, and the hub cache in use.</summary>
internal sealed class InfoCommand : VerbCommand
{
    private readonly Option<string> _cacheDir = new("--cache-dir")
    {
        Description = "Report this cache folder instead of the default one.",
        HelpName = "dir",
    };

    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print one JSON object instead of a table.",
    };

    public InfoCommand(CliRun run)
        : base("info", "Show versions (tool, library, .NET runtime), the operating system, and the model cache folders.", run)
    {
        Options.Add(_cacheDir);
        Options.Add(_json);
    }

    public override string HelpEpilogue =>
        """
        Examples:
          vlm2vec info
          vlm2vec info --json
        """;

    protected override Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var options = new HubClientOptions { CacheFolder = parseResult.GetValue(_cacheDir) };
        context.Environment.ConfigureHubClient?.Invoke(options);
        using var hub = new HubClient(options);
        var facts = new List<(string Key, string Label, string Value)>
        {
            ("version", "vlm2vec", ToolVersionAction.Version),
            ("coreVersion", "Vlm2Vec.Core", VersionOf(typeof(HubClient).Assembly)),
            ("runtime", ".NET runtime", RuntimeInformation.FrameworkDescription),
            ("runtimeIdentifier", "runtime identifier", RuntimeInformation.RuntimeIdentifier),
            ("os", "operating system", $"{RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()})"),
            ("processArchitecture", "process architecture", RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()),
            ("hubEndpoint", "hub endpoint", hub.Endpoint.AbsoluteUri.TrimEnd('/')),
            ("hubCache", "hub cache", hub.CacheFolder),
            ("hubCacheExists", "hub cache exists", Directory.Exists(hub.CacheFolder) ? "yes" : "no"),
            ("offline", "offline mode", hub.IsOffline ? "on" : "off"),
        };

        if (parseResult.GetValue(_json))
        {
            context.WriteResultLine(ToJson(facts));
            return Task.FromResult(ExitCodes.Success);
        }

        var table = new Table().HideHeaders().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        foreach (var (_, label, value) in facts)
        {
            table.AddRow(new Text(label, new Style(decoration: Decoration.Bold)), new Text(value));
        }

        context.Out.Write(table);
        return Task.FromResult(ExitCodes.Success);
    }

    private static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ??
        assembly.GetName().Version?.ToString() ?? "unknown";

    private static string ToJson(List<(string Key, string Label, string Value)> facts)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach (var (key, _, value) in facts)
            {
                switch (key)
                {
                    case "hubCacheExists":
                        writer.WriteBoolean(key, value == "yes");
                        break;
                    case "offline":
                        writer.WriteBoolean(key, value == "on");
                        break;
                    default:
                        writer.WriteString(key, value);
                        break;
                }
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
