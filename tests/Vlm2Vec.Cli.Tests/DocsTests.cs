namespace Vlm2Vec.Cli.Tests;

public sealed class DocsTests
{
    private static readonly string CliDoc = File.ReadAllText(RepositoryFiles.Path("docs", "cli.md"));

    [Fact]
    public void Cli_doc_lists_every_exit_code()
    {
        foreach (var (code, _) in ExitCodes.Table)
        {
            Assert.Matches($@"\|\s*{code}\s*\|", CliDoc);
        }
    }

    [Fact]
    public void Cli_doc_describes_every_verb_and_every_planned_verb()
    {
        using var run = new CliRun(new CliEnvironment { Out = TextWriter.Null, Error = TextWriter.Null });
        var root = CliApplication.BuildRootCommand(run);
        foreach (var verb in root.Subcommands)
        {
            Assert.Contains($"`{verb.Name}`", CliDoc, StringComparison.Ordinal);
            foreach (var option in verb.Options)
            {
                Assert.Contains($"`{option.Name}", CliDoc, StringComparison.Ordinal);
            }
        }

        foreach (var planned in CliApplication.PlannedVerbs)
        {
            Assert.Contains($"`{planned}`", CliDoc, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Cli_doc_gives_the_local_tool_install_commands()
    {
        Assert.Contains("dotnet pack src/Vlm2Vec.Cli -c Release -o ./nupkg", CliDoc, StringComparison.Ordinal);
        Assert.Contains("dotnet tool install --global --add-source ./nupkg vlm2vec", CliDoc, StringComparison.Ordinal);
    }
}
