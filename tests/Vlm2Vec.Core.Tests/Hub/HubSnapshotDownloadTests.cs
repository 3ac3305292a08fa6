using System.Text.Json;
using Vlm2Vec.Hub;
using Vlm2Vec.TestSupport.Hub;

namespace Vlm2Vec.Core.Tests.Hub;

public sealed class HubSnapshotDownloadTests : IDisposable
{
    private readonly HubTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task Snapshot_with_default_filter_holds_exactly_the_model_files_with_the_hub_content()
    {
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        Assert.Equal(Path.Combine(_kit.StorageFolder, "snapshots", _kit.MainCommit), folder);
        var present = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(FakeModelFiles.DefaultSelection.Order(StringComparer.Ordinal).ToArray(), present);
        foreach (var name in FakeModelFiles.DefaultSelection)
        {
            Assert.Equal(FakeRepo.Sha256(_kit.MainFiles[name]), HubTestKit.Sha256OfFile(Path.Combine(folder, name)));
        }

        // Files the filter drops are never requested.
        foreach (var dropped in new[] { "pytorch_model.bin", "training_args.bin", "README.md", "eval/mmeb_score.json" })
        {
            Assert.DoesNotContain(_kit.Server.Requests, r => r.RepoPath == dropped);
        }

        _kit.AssertCacheConsistent();
    }

    [Fact]
    public async Task Cache_layout_is_the_one_python_huggingface_hub_uses()
    {
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        Assert.Equal(_kit.MainCommit, File.ReadAllText(Path.Combine(_kit.StorageFolder, "refs", "main")));
        var shard = new FileInfo(Path.Combine(folder, FakeModelFiles.Shard1));
        var shardSha = FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard1]);
        Assert.Equal(Path.Combine("..", "..", "blobs", shardSha), shard.LinkTarget);
        var config = new FileInfo(Path.Combine(folder, "config.json"));
        Assert.Equal(Path.Combine("..", "..", "blobs", FakeRepo.GitBlobSha1(_kit.MainFiles["config.json"])), config.LinkTarget);
        Assert.True(File.Exists(Path.Combine(_kit.StorageFolder, "blobs", shardSha)));
        Assert.Empty(Directory.GetFiles(Path.Combine(_kit.StorageFolder, "blobs"), "*.incomplete"));

        // trees/{commit}.json in Python's tree-cache format: every file of the commit, LFS ones with their sha256.
        using var tree = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_kit.StorageFolder, "trees", _kit.MainCommit + ".json")));
        Assert.Equal(1, tree.RootElement.GetProperty("format_version").GetInt32());
        var files = tree.RootElement.GetProperty("files");
        Assert.Equal(_kit.MainFiles.Count, files.EnumerateObject().Count());
        Assert.Equal(shardSha, files.GetProperty(FakeModelFiles.Shard1).GetProperty("lfs_sha256").GetString());
        Assert.Equal(_kit.MainFiles["config.json"].Length, files.GetProperty("config.json").GetProperty("size").GetInt64());
        Assert.False(files.GetProperty("config.json").TryGetProperty("lfs_sha256", out _));
    }

    [Fact]
    public async Task Lfs_files_follow_the_redirect_to_the_cdn_which_never_receives_the_token()
    {
        _kit.Repo.PrivateToken = "hf_good";
        _kit.Server.ValidTokens.Add("hf_good");
        using var client = _kit.CreateClient(o => o.Token = "hf_good");

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        Assert.Equal(FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard2]), HubTestKit.Sha256OfFile(Path.Combine(folder, FakeModelFiles.Shard2)));
        var hubRequests = _kit.Server.Requests.Where(r => !r.Cdn).ToList();
        var cdnRequests = _kit.Server.Requests.Where(r => r.Cdn).ToList();
        Assert.NotEmpty(hubRequests);
        Assert.All(hubRequests, r => Assert.Equal("Bearer hf_good", r.Authorization));
        Assert.Contains(hubRequests, r => r.Status == 302 && r.RepoPath == FakeModelFiles.Shard1);
        Assert.Equal(2, cdnRequests.Count); // the two safetensors shards
        Assert.All(cdnRequests, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task A_second_download_transfers_nothing_and_reports_every_file_cached()
    {
        using (var first = _kit.CreateClient())
        {
            await first.DownloadSnapshotAsync(HubTestKit.RepoId);
        }

        var requestsBefore = _kit.Server.Requests.Count;
        var progress = new RecordingProgress();
        using var second = _kit.CreateClient();

        await second.DownloadSnapshotAsync(HubTestKit.RepoId, progress: progress);

        var newRequests = _kit.Server.Requests.Skip(requestsBefore).ToList();
        var listing = Assert.Single(newRequests);
        Assert.StartsWith("/api/models/test-org/tiny-vlm2vec/revision/main", listing.Path, StringComparison.Ordinal);
        var fileReports = progress.Reports.Where(r => r.FileName is not null).ToList();
        Assert.Equal(FakeModelFiles.DefaultSelection.Length, fileReports.Count);
        Assert.All(fileReports, r => Assert.Equal(HubDownloadStage.FileCached, r.Stage));
    }

    [Fact]
    public async Task Progress_reports_per_file_and_total_bytes_ending_at_the_full_size()
    {
        var progress = new RecordingProgress();
        using var client = _kit.CreateClient(o => o.MaxParallelDownloads = 1);

        await client.DownloadSnapshotAsync(HubTestKit.RepoId, progress: progress);

        var reports = progress.Reports.ToList();
        var expectedTotal = FakeModelFiles.DefaultSelection.Sum(name => (long)_kit.MainFiles[name].Length);
        var last = reports[^1];
        Assert.Equal(HubDownloadStage.Completed, last.Stage);
        Assert.Equal(expectedTotal, last.TotalBytesTotal);
        Assert.Equal(expectedTotal, last.TotalBytesCompleted);
        Assert.Equal(FakeModelFiles.DefaultSelection.Length, last.FilesTotal);
        Assert.Equal(FakeModelFiles.DefaultSelection.Length, last.FilesCompleted);

        foreach (var name in FakeModelFiles.DefaultSelection)
        {
            var completed = Assert.Single(reports, r => r.FileName == name && r.Stage == HubDownloadStage.FileCompleted);
            Assert.Equal(_kit.MainFiles[name].Length, completed.FileBytesTotal);
            Assert.Equal(_kit.MainFiles[name].Length, completed.FileBytesCompleted);
        }

        // The 400 KB shard reports intermediate byte counts, never going backwards, never past its size.
        var shardBytes = reports.Where(r => r.FileName == FakeModelFiles.Shard1).Select(r => r.FileBytesCompleted).ToList();
        Assert.Contains(reports, r => r.FileName == FakeModelFiles.Shard1 && r.Stage == HubDownloadStage.FileProgress);
        Assert.Equal(shardBytes.Order().ToList(), shardBytes);
        Assert.All(reports, r => Assert.InRange(r.TotalBytesCompleted, 0, expectedTotal));
    }

    [Fact]
    public async Task Include_and_exclude_patterns_select_files_like_python_fnmatch()
    {
        using var client = _kit.CreateClient();
        var filter = new HubFileFilter { Include = ["*.json"], Exclude = ["eval/", "tokenizer*"] };

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: filter);

        var present = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        Assert.Equal(["config.json", FakeModelFiles.ShardIndex, "preprocessor_config.json"], present);
    }

    [Fact]
    public async Task Filter_all_takes_every_file_including_subfolders()
    {
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: HubFileFilter.All);

        Assert.Equal(_kit.MainFiles.Count, Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Length);
        Assert.Equal(_kit.MainFiles["eval/mmeb_score.json"], File.ReadAllBytes(Path.Combine(folder, "eval", "mmeb_score.json")));
        _kit.AssertCacheConsistent();
    }

    [Fact]
    public async Task Parallel_downloads_overlap_but_never_exceed_the_configured_limit()
    {
        _kit.Server.ChunkDelay = TimeSpan.FromMilliseconds(15);
        using var client = _kit.CreateClient(o => o.MaxParallelDownloads = 2);

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: HubFileFilter.All);

        Assert.Equal(2, _kit.Server.PeakBodiesInFlight);
        Assert.Equal(_kit.MainFiles.Count, Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Length);
        _kit.AssertCacheConsistent();
    }

    [Fact]
    public async Task Without_symlink_support_snapshot_entries_are_regular_files_with_the_content()
    {
        using var client = _kit.CreateClient(environment: new Dictionary<string, string> { ["HF_HUB_DISABLE_SYMLINKS"] = "1" });

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        foreach (var name in FakeModelFiles.DefaultSelection)
        {
            var entry = new FileInfo(Path.Combine(folder, name));
            Assert.Null(entry.LinkTarget);
            Assert.Equal(_kit.MainFiles[name], File.ReadAllBytes(entry.FullName));
        }
    }

    [Fact]
    public async Task A_listing_without_sizes_and_hashes_falls_back_to_a_head_per_file()
    {
        _kit.Server.ListingWithoutMetadata = true;
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        foreach (var name in FakeModelFiles.DefaultSelection)
        {
            Assert.Equal(_kit.MainFiles[name], File.ReadAllBytes(Path.Combine(folder, name)));
            Assert.Contains(_kit.Server.Requests, r => r.Method == "HEAD" && r.RepoPath == name);
        }

        // Without sizes the listing is not cached as a tree (Python would reject it).
        Assert.False(File.Exists(Path.Combine(_kit.StorageFolder, "trees", _kit.MainCommit + ".json")));
        _kit.AssertCacheConsistent();
    }
}
