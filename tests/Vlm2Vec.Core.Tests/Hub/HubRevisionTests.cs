using Vlm2Vec.Hub;
using Vlm2Vec.TestSupport.Hub;

namespace Vlm2Vec.Core.Tests.Hub;

public sealed class HubRevisionTests : IDisposable
{
    private readonly HubTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task A_tag_resolves_to_its_commit_recorded_under_refs_and_shares_unchanged_blobs()
    {
        using var client = _kit.CreateClient();

        var main = await client.DownloadSnapshotAsync(HubTestKit.RepoId);
        var cdnBefore = _kit.Server.Requests.Count(r => r.Cdn);
        var tag = await client.DownloadSnapshotAsync(HubTestKit.RepoId, "v1.0");

        Assert.Equal(_kit.MainCommit, Path.GetFileName(main));
        Assert.Equal(_kit.TagCommit, Path.GetFileName(tag));
        Assert.Equal(_kit.MainCommit, File.ReadAllText(Path.Combine(_kit.StorageFolder, "refs", "main")));
        Assert.Equal(_kit.TagCommit, File.ReadAllText(Path.Combine(_kit.StorageFolder, "refs", "v1.0")));
        Assert.Contains("\"variant\":\"v1\"", File.ReadAllText(Path.Combine(tag, "config.json")), StringComparison.Ordinal);
        Assert.Contains("\"variant\":\"main\"", File.ReadAllText(Path.Combine(main, "config.json")), StringComparison.Ordinal);

        // The shards are byte-identical in both commits: the tag's snapshot links the same blobs, nothing new from the CDN.
        Assert.Equal(cdnBefore, _kit.Server.Requests.Count(r => r.Cdn));
        Assert.Equal(
            new FileInfo(Path.Combine(main, FakeModelFiles.Shard1)).LinkTarget,
            new FileInfo(Path.Combine(tag, FakeModelFiles.Shard1)).LinkTarget);
    }

    [Fact]
    public async Task A_commit_revision_writes_no_ref_and_once_cached_needs_no_request()
    {
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, _kit.TagCommit);

        Assert.Equal(_kit.TagCommit, Path.GetFileName(folder));
        Assert.False(Directory.Exists(Path.Combine(_kit.StorageFolder, "refs")));
        var requestsBefore = _kit.Server.Requests.Count;
        Assert.Equal(folder, await client.DownloadSnapshotAsync(HubTestKit.RepoId, _kit.TagCommit));
        Assert.Equal(
            Path.Combine(folder, "config.json"),
            await client.DownloadFileAsync(HubTestKit.RepoId, "config.json", _kit.TagCommit));
        Assert.Equal(requestsBefore, _kit.Server.Requests.Count);
    }

    [Fact]
    public async Task A_branch_that_moved_is_followed_to_its_new_commit()
    {
        using var client = _kit.CreateClient();
        await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        var files = FakeModelFiles.Create("moved");
        files["added.json"] = "{}"u8.ToArray();
        var moved = _kit.Repo.AddCommit(files, "main");
        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: HubFileFilter.All);

        Assert.Equal(moved, Path.GetFileName(folder));
        Assert.Equal(moved, File.ReadAllText(Path.Combine(_kit.StorageFolder, "refs", "main")));
        Assert.True(File.Exists(Path.Combine(folder, "added.json")));
    }

    [Fact]
    public async Task Download_file_fetches_one_lfs_file_through_head_and_the_cdn()
    {
        var progress = new RecordingProgress();
        using var client = _kit.CreateClient();

        var path = await client.DownloadFileAsync(HubTestKit.RepoId, FakeModelFiles.Shard2, progress: progress);

        Assert.Equal(Path.Combine(_kit.StorageFolder, "snapshots", _kit.MainCommit, FakeModelFiles.Shard2), path);
        Assert.Equal(FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard2]), HubTestKit.Sha256OfFile(path));
        Assert.Equal(_kit.MainCommit, File.ReadAllText(Path.Combine(_kit.StorageFolder, "refs", "main")));
        var requests = _kit.Server.Requests.ToList();
        Assert.Equal(("HEAD", false, 302), (requests[0].Method, requests[0].Cdn, requests[0].Status));
        Assert.Equal(("GET", true, 200), (requests[1].Method, requests[1].Cdn, requests[1].Status));
        Assert.Equal(2, requests.Count);
        var done = Assert.Single(progress.Reports, r => r.Stage == HubDownloadStage.FileCompleted);
        Assert.Equal(_kit.MainFiles[FakeModelFiles.Shard2].Length, done.TotalBytesTotal);
    }

    [Fact]
    public async Task Download_file_in_a_subfolder_and_a_regular_file_from_the_hub()
    {
        using var client = _kit.CreateClient();

        var score = await client.DownloadFileAsync(HubTestKit.RepoId, "eval/mmeb_score.json", "v1.0");

        Assert.Equal(Path.Combine(_kit.StorageFolder, "snapshots", _kit.TagCommit, "eval", "mmeb_score.json"), score);
        Assert.Equal(_kit.TagFiles["eval/mmeb_score.json"], File.ReadAllBytes(score));
        Assert.DoesNotContain(_kit.Server.Requests, r => r.Cdn);
    }

    [Fact]
    public async Task Concurrent_requests_for_the_same_file_share_one_blob()
    {
        using var client = _kit.CreateClient();
        _kit.Server.ChunkDelay = TimeSpan.FromMilliseconds(5);

        var paths = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.DownloadFileAsync(HubTestKit.RepoId, FakeModelFiles.Shard1)));

        Assert.All(paths, p => Assert.Equal(FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard1]), HubTestKit.Sha256OfFile(p)));
        Assert.Single(_kit.Server.BodyRequests(FakeModelFiles.Shard1));
        _kit.AssertCacheConsistent();
    }

    [Fact]
    public async Task A_revision_with_slashes_is_escaped_in_urls_and_nested_under_refs()
    {
        var prCommit = _kit.Repo.AddCommit(FakeModelFiles.Create("pr"), "refs/pr/1");
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, "refs/pr/1");
        var file = await client.DownloadFileAsync(HubTestKit.RepoId, "config.json", "refs/pr/1");

        Assert.Equal(prCommit, Path.GetFileName(folder));
        Assert.Equal(Path.Combine(folder, "config.json"), file);
        Assert.Equal(prCommit, File.ReadAllText(Path.Combine(_kit.StorageFolder, "refs", "refs", "pr", "1")));
        Assert.Contains(_kit.Server.Requests, r => r.Path.StartsWith("/api/models/test-org/tiny-vlm2vec/revision/refs%2Fpr%2F1", StringComparison.Ordinal));
        Assert.Contains(_kit.Server.Requests, r => r.Path == "/test-org/tiny-vlm2vec/resolve/refs%2Fpr%2F1/config.json");
    }

    [Theory]
    [InlineData("../main")]
    [InlineData("refs//pr")]
    [InlineData("")]
    public async Task An_unsafe_revision_is_refused_before_any_request(string revision)
    {
        using var client = _kit.CreateClient();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(HubTestKit.RepoId, revision));

        Assert.Equal(HubErrorKind.RevisionNotFound, error.Kind);
        Assert.Empty(_kit.Server.Requests);
    }
}
