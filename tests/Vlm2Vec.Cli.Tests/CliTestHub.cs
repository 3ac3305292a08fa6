using Vlm2Vec.TestSupport;
using Vlm2Vec.TestSupport.Hub;

namespace Vlm2Vec.Cli.Tests;

/// <summary>A loopback fake hub holding one small model repository (two revisions), and an empty cache folder.</summary>
internal sealed class CliTestHub : IDisposable
{
    public const string RepoId = "test-org/tiny-vlm2vec";

    public CliTestHub()
    {
        Server = new FakeHubServer();
        Repo = Server.AddRepo(RepoId);
        MainFiles = FakeModelFiles.Create("main");
        MainCommit = Repo.AddCommit(MainFiles, "main");
        TagFiles = FakeModelFiles.Create("v1");
        TagCommit = Repo.AddCommit(TagFiles, "v1.0");
        Cache = new TempFolder("vlm2vec-cli-test");
    }

    public FakeHubServer Server { get; }

    public FakeRepo Repo { get; }

    public Dictionary<string, byte[]> MainFiles { get; }

    public string MainCommit { get; }

    public Dictionary<string, byte[]> TagFiles { get; }

    public string TagCommit { get; }

    public TempFolder Cache { get; }

    /// <summary>The snapshot folder the cache layout gives a commit of the test repository.</summary>
    public string SnapshotFolder(string commit) => Cache.Combine("models--test-org--tiny-vlm2vec", "snapshots", commit);

    /// <summary><c>pull</c> arguments pointed at this hub and cache, followed by <paramref name="extra"/>.</summary>
    public string[] PullArgs(string repoId = RepoId, params string[] extra) =>
        ["pull", repoId, "--endpoint", Server.Endpoint, "--cache-dir", Cache.Path, .. extra];

    public void Dispose()
    {
        Server.Dispose();
        Cache.Dispose();
    }
}
