using Vlm2Vec.Hub;
using Vlm2Vec.TestSupport.Hub;

namespace Vlm2Vec.Core.Tests.Hub;

public sealed class HubOfflineTests : IDisposable
{
    private readonly HubTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task Offline_without_a_cached_snapshot_fails_clearly_and_touches_no_network()
    {
        using var client = _kit.CreateClient(o => o.Offline = true);

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(HubTestKit.RepoId));

        Assert.Equal(HubErrorKind.OfflineCacheMiss, error.Kind);
        Assert.Contains("HF_HUB_OFFLINE", error.Message, StringComparison.Ordinal);
        Assert.Contains(HubTestKit.RepoId, error.Message, StringComparison.Ordinal);
        Assert.Empty(_kit.Server.Requests);
    }

    [Fact]
    public async Task Offline_via_hf_hub_offline_returns_the_cached_snapshot_without_requests()
    {
        string online;
        using (var client = _kit.CreateClient())
        {
            online = await client.DownloadSnapshotAsync(HubTestKit.RepoId);
        }

        var requestsBefore = _kit.Server.Requests.Count;
        using var offline = _kit.CreateClient(environment: new Dictionary<string, string> { ["HF_HUB_OFFLINE"] = "1" });

        Assert.True(offline.IsOffline);
        Assert.Equal(online, await offline.DownloadSnapshotAsync(HubTestKit.RepoId));
        Assert.Equal(
            Path.Combine(online, "tokenizer.json"),
            await offline.DownloadFileAsync(HubTestKit.RepoId, "tokenizer.json"));
        Assert.Equal(requestsBefore, _kit.Server.Requests.Count);
    }

    [Fact]
    public async Task Offline_with_an_incomplete_cached_snapshot_names_the_missing_files()
    {
        string folder;
        using (var client = _kit.CreateClient())
        {
            folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);
        }

        File.Delete(Path.Combine(folder, FakeModelFiles.Shard2));
        using var offline = _kit.CreateClient(o => o.Offline = true);

        var error = await Assert.ThrowsAsync<HubException>(() => offline.DownloadSnapshotAsync(HubTestKit.RepoId));

        Assert.Equal(HubErrorKind.OfflineCacheMiss, error.Kind);
        Assert.Contains("incomplete", error.Message, StringComparison.Ordinal);
        Assert.Contains(FakeModelFiles.Shard2, error.Message, StringComparison.Ordinal);

        // A filter that does not need the missing file is satisfied.
        Assert.Equal(folder, await offline.DownloadSnapshotAsync(HubTestKit.RepoId, filter: new HubFileFilter { Include = ["config.json", "tokenizer*"] }));
    }

    [Fact]
    public async Task Offline_file_not_in_the_cache_fails_clearly()
    {
        using (var client = _kit.CreateClient())
        {
            await client.DownloadSnapshotAsync(HubTestKit.RepoId);
        }

        using var offline = _kit.CreateClient(o => o.Offline = true);

        var error = await Assert.ThrowsAsync<HubException>(() => offline.DownloadFileAsync(HubTestKit.RepoId, "README.md"));

        Assert.Equal(HubErrorKind.OfflineCacheMiss, error.Kind);
        Assert.Equal("README.md", error.FileName);
    }

    [Fact]
    public async Task Offline_resolves_a_tag_through_refs()
    {
        using (var client = _kit.CreateClient())
        {
            await client.DownloadSnapshotAsync(HubTestKit.RepoId, "v1.0");
        }

        using var offline = _kit.CreateClient(o => o.Offline = true);

        var folder = await offline.DownloadSnapshotAsync(HubTestKit.RepoId, "v1.0");

        Assert.Equal(_kit.TagCommit, Path.GetFileName(folder));
        await Assert.ThrowsAsync<HubException>(() => offline.DownloadSnapshotAsync(HubTestKit.RepoId, "main"));
    }

    [Fact]
    public async Task An_unreachable_hub_falls_back_to_a_complete_cached_snapshot()
    {
        string folder;
        using (var client = _kit.CreateClient())
        {
            folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);
        }

        var closedPort = HubErrorTests.ClosedPort();
        using var unreachable = _kit.CreateClient(o =>
        {
            o.Endpoint = $"http://127.0.0.1:{closedPort}";
            o.MaxRetries = 0;
        });

        Assert.Equal(folder, await unreachable.DownloadSnapshotAsync(HubTestKit.RepoId));
        Assert.Equal(Path.Combine(folder, "config.json"), await unreachable.DownloadFileAsync(HubTestKit.RepoId, "config.json"));
    }
}
