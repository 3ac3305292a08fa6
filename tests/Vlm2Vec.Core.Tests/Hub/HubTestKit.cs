using System.Collections.Concurrent;
using System.Security.Cryptography;
using Vlm2Vec.Hub;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TestSupport.Hub;

namespace Vlm2Vec.Core.Tests.Hub;

/// <summary>An <see cref="IProgress{T}"/> that records reports synchronously (Progress&lt;T&gt; would post them later).</summary>
internal sealed class RecordingProgress : IProgress<HubDownloadProgress>
{
    public ConcurrentQueue<HubDownloadProgress> Reports { get; } = new();

    public Action<HubDownloadProgress>? OnReport { get; init; }

    public void Report(HubDownloadProgress value)
    {
        Reports.Enqueue(value);
        OnReport?.Invoke(value);
    }
}

/// <summary>A fake hub with the standard test repository, a temporary cache, and clients pointed at both.</summary>
internal sealed class HubTestKit : IDisposable
{
    public const string RepoId = "test-org/tiny-vlm2vec";

    public HubTestKit()
    {
        Server = new FakeHubServer();
        Repo = Server.AddRepo(RepoId);
        MainFiles = FakeModelFiles.Create("main");
        MainCommit = Repo.AddCommit(MainFiles, "main");
        TagFiles = FakeModelFiles.Create("v1");
        TagCommit = Repo.AddCommit(TagFiles, "v1.0");
        Cache = new TempFolder("vlm2vec-hub-test");
    }

    public FakeHubServer Server { get; }

    public FakeRepo Repo { get; }

    public Dictionary<string, byte[]> MainFiles { get; }

    public string MainCommit { get; }

    public Dictionary<string, byte[]> TagFiles { get; }

    public string TagCommit { get; }

    public TempFolder Cache { get; }

    public string StorageFolder => Path.Combine(Cache.Path, "models--test-org--tiny-vlm2vec");

    /// <summary>A client on the fake hub with a private cache, anonymous unless configured, fast retries, and an empty environment.</summary>
    public HubClient CreateClient(Action<HubClientOptions>? configure = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var options = new HubClientOptions
        {
            Endpoint = Server.Endpoint,
            CacheFolder = Cache.Path,
            Token = string.Empty,
            MaxRetries = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(5),
            RequestTimeout = TimeSpan.FromSeconds(20),
            ReadTimeout = TimeSpan.FromSeconds(20),
        };
        configure?.Invoke(options);
        var env = new HubEnvironment(name => environment?.GetValueOrDefault(name), Cache.Combine("home"));
        return new HubClient(options, env, handler: null);
    }

    public static string Sha256OfFile(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>
    /// Every finished blob matches its name's hash, and every snapshot entry shows a finished blob's content: a cancelled
    /// or failed download never leaves a file that looks complete but is not.
    /// </summary>
    public void AssertCacheConsistent()
    {
        var blobs = Path.Combine(StorageFolder, "blobs");
        if (Directory.Exists(blobs))
        {
            foreach (var blob in Directory.GetFiles(blobs))
            {
                var name = Path.GetFileName(blob);
                if (name.EndsWith(".incomplete", StringComparison.Ordinal))
                {
                    continue;
                }

                var content = File.ReadAllBytes(blob);
                var actual = name.Length == 64 ? FakeRepo.Sha256(content) : FakeRepo.GitBlobSha1(content);
                Assert.Equal(name, actual);
            }
        }

        var snapshots = Path.Combine(StorageFolder, "snapshots");
        if (Directory.Exists(snapshots))
        {
            foreach (var commitFolder in Directory.GetDirectories(snapshots))
            {
                var commit = Path.GetFileName(commitFolder);
                var files = Repo.Commits[commit];
                foreach (var entry in Directory.GetFiles(commitFolder, "*", SearchOption.AllDirectories))
                {
                    var repoPath = Path.GetRelativePath(commitFolder, entry).Replace('\\', '/');
                    Assert.True(files.ContainsKey(repoPath), $"Unexpected snapshot entry {repoPath}");
                    Assert.Equal(files[repoPath], File.ReadAllBytes(entry));
                }
            }
        }
    }

    public void Dispose()
    {
        Server.Dispose();
        Cache.Dispose();
    }
}
