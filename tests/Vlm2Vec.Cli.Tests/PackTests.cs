using System.IO.Compression;
using System.Xml.Linq;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

public sealed class PackTests
{
    [Fact]
    [Trait("Category", "Pack")]
    public async Task Dotnet_pack_produces_a_dotnet_tool_package_named_vlm2vec()
    {
        using var output = new TempFolder("vlm2vec-cli-pack");
        // --no-build: the test project's build already built the CLI in this configuration, which keeps this test fast.
        using var pack = new ChildProcess(
            RepositoryFiles.DotnetHost,
            ["pack", RepositoryFiles.Path("src", "Vlm2Vec.Cli", "Vlm2Vec.Cli.csproj"), "-c", RepositoryFiles.Configuration, "--no-build", "-o", output.Path, "-nologo"]);

        var exitCode = await pack.WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(exitCode == 0, $"dotnet pack failed ({exitCode}):\n{pack.Out}\n{pack.Error}");
        var package = Assert.Single(Directory.GetFiles(output.Path, "vlm2vec.*.nupkg"));
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);

        var nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        XDocument nuspec;
        using (var stream = nuspecEntry.Open())
        {
            nuspec = XDocument.Load(stream);
        }

        var ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal("vlm2vec", metadata.Element(ns + "id")!.Value);
        Assert.Contains(metadata.Descendants(ns + "packageType"), t => (string?)t.Attribute("name") == "DotnetTool");
        Assert.Equal("README.md", metadata.Element(ns + "readme")?.Value);
        Assert.Contains("README.md", entries); // docs/cli.md

        var settingsEntry = zip.Entries.Single(e => e.FullName.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
        var toolFolder = settingsEntry.FullName[..settingsEntry.FullName.LastIndexOf('/')];
        XDocument settings;
        using (var stream = settingsEntry.Open())
        {
            settings = XDocument.Load(stream);
        }

        var command = settings.Descendants("Command").Single();
        Assert.Equal("vlm2vec", (string?)command.Attribute("Name"));
        Assert.Equal("vlm2vec.dll", (string?)command.Attribute("EntryPoint"));
        Assert.Equal("tools/net10.0/any", toolFolder);
        foreach (var file in new[]
        {
            "vlm2vec.dll", "vlm2vec.runtimeconfig.json", "Vlm2Vec.Core.dll", "System.CommandLine.dll", "Spectre.Console.dll",
            "demo/model/vlm2vec.json", "demo/model/text.onnx_data", "demo/images/labels.csv", "demo/images/sneaker-1.png", // vlm2vec demo
        })
        {
            Assert.Contains($"{toolFolder}/{file}", entries);
        }
    }
}
