namespace Vlm2Vec.Cli.Tests;

/// <summary>Paths in the repository the tests run from (found by walking up to the solution file).</summary>
internal static class RepositoryFiles
{
    private static readonly Lazy<string> RootFolder = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Vlm2Vec.Extensions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Vlm2Vec.Extensions.sln was not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootFolder.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The build configuration the tests were built in (Release or Debug), read from the output path.</summary>
    public static string Configuration =>
        new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name is { } configuration && configuration.Length > 0 ? configuration : "Release";

    /// <summary>The <c>dotnet</c> host running the tests (the SDK sets DOTNET_HOST_PATH for test runs).</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
