using Vlm2Vec.Hub;
using Vlm2Vec.TestSupport.Hub;

namespace Vlm2Vec.Core.Tests.Hub;

public sealed class HubTransferFaultTests : IDisposable
{
    private readonly HubTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static HubFileFilter OnlyShards => new() { Include = ["*.safetensors"] };

    [Fact]
    public async Task A_transfer_cut_mid_body_resumes_with_range_and_ends_with_the_right_sha256()
    {
        _kit.Server.Faults[FakeModelFiles.Shard1] = new FileFault { InterruptAfterBytes = 100_000, InterruptTimes = 1 };
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: OnlyShards);

        var shard = _kit.MainFiles[FakeModelFiles.Shard1];
        Assert.Equal(FakeRepo.Sha256(shard), HubTestKit.Sha256OfFile(Path.Combine(folder, FakeModelFiles.Shard1)));
        var bodies = _kit.Server.BodyRequests(FakeModelFiles.Shard1);
        Assert.Equal(2, bodies.Count);
        Assert.Null(bodies[0].Range);
        var resumedFrom = long.Parse(bodies[1].Range!["bytes=".Length..^1]);
        Assert.InRange(resumedFrom, 1, 100_000);
        Assert.Equal(206, bodies[1].Status);
        _kit.AssertCacheConsistent();
    }

    [Fact]
    public async Task A_server_that_ignores_range_gets_the_file_restarted_not_appended()
    {
        _kit.Server.IgnoreRange = true;
        _kit.Server.Faults[FakeModelFiles.Shard1] = new FileFault { InterruptAfterBytes = 150_000, InterruptTimes = 1 };
        var progress = new RecordingProgress();
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: OnlyShards, progress: progress);

        var path = Path.Combine(folder, FakeModelFiles.Shard1);
        Assert.Equal(_kit.MainFiles[FakeModelFiles.Shard1].Length, File.ReadAllBytes(path).Length);
        Assert.Equal(FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard1]), HubTestKit.Sha256OfFile(path));
        var bodies = _kit.Server.BodyRequests(FakeModelFiles.Shard1);
        Assert.Equal(2, bodies.Count);
        Assert.NotNull(bodies[1].Range);
        Assert.Equal(200, bodies[1].Status);
        Assert.Contains(progress.Reports, r => r.FileName == FakeModelFiles.Shard1 && r.Stage == HubDownloadStage.FileRetrying && r.FileBytesCompleted == 0);
        Assert.Equal(progress.Reports.Last().TotalBytesTotal, progress.Reports.Last().TotalBytesCompleted);
    }

    [Fact]
    public async Task A_stalled_transfer_is_dropped_after_the_read_timeout_and_resumed()
    {
        _kit.Server.Faults[FakeModelFiles.Shard2] = new FileFault { StallAfterBytes = 50_000, StallTimes = 1 };
        using var client = _kit.CreateClient(o => o.ReadTimeout = TimeSpan.FromMilliseconds(300));

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: OnlyShards);

        Assert.Equal(FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard2]), HubTestKit.Sha256OfFile(Path.Combine(folder, FakeModelFiles.Shard2)));
        var bodies = _kit.Server.BodyRequests(FakeModelFiles.Shard2);
        Assert.Equal(2, bodies.Count);
        Assert.Equal("bytes=50000-", bodies[1].Range);
    }

    [Fact]
    public async Task A_corrupted_lfs_file_is_detected_deleted_and_downloaded_again()
    {
        _kit.Server.Faults[FakeModelFiles.Shard2] = new FileFault { CorruptTimes = 1 };
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: OnlyShards);

        Assert.Equal(FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard2]), HubTestKit.Sha256OfFile(Path.Combine(folder, FakeModelFiles.Shard2)));
        Assert.Equal(2, _kit.Server.BodyRequests(FakeModelFiles.Shard2).Count);
        _kit.AssertCacheConsistent();
    }

    [Fact]
    public async Task A_corrupted_regular_file_is_caught_by_its_git_blob_sha1()
    {
        _kit.Server.Faults["tokenizer.json"] = new FileFault { CorruptTimes = 1 };
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        Assert.Equal(_kit.MainFiles["tokenizer.json"], File.ReadAllBytes(Path.Combine(folder, "tokenizer.json")));
        Assert.Equal(2, _kit.Server.BodyRequests("tokenizer.json").Count);
    }

    [Fact]
    public async Task A_file_that_stays_corrupt_fails_with_an_integrity_error_and_leaves_nothing_behind()
    {
        _kit.Server.Faults[FakeModelFiles.Shard2] = new FileFault { CorruptTimes = int.MaxValue };
        using var client = _kit.CreateClient();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: OnlyShards));

        Assert.Equal(HubErrorKind.IntegrityCheckFailed, error.Kind);
        Assert.Equal(FakeModelFiles.Shard2, error.FileName);
        Assert.Contains("integrity", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard2]), error.Message, StringComparison.Ordinal);
        Assert.Equal(2, _kit.Server.BodyRequests(FakeModelFiles.Shard2).Count);
        var blob = Path.Combine(_kit.StorageFolder, "blobs", FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard2]));
        Assert.False(File.Exists(blob));
        Assert.False(File.Exists(blob + ".incomplete"));
        Assert.False(File.Exists(Path.Combine(_kit.StorageFolder, "snapshots", _kit.MainCommit, FakeModelFiles.Shard2)));
        _kit.AssertCacheConsistent();
    }

    [Fact]
    public async Task Cancellation_leaves_only_a_partial_file_that_the_next_run_resumes()
    {
        _kit.Server.ChunkDelay = TimeSpan.FromMilliseconds(25);
        using var cancel = new CancellationTokenSource();
        var progress = new RecordingProgress
        {
            OnReport = r =>
            {
                if (r.FileName == FakeModelFiles.Shard1 && r.Stage == HubDownloadStage.FileProgress)
                {
                    cancel.Cancel();
                }
            },
        };
        var shardBlob = Path.Combine(_kit.StorageFolder, "blobs", FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard1]));
        using (var client = _kit.CreateClient(o => o.MaxParallelDownloads = 1))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(
                () => client.DownloadSnapshotAsync(HubTestKit.RepoId, progress: progress, cancellationToken: cancel.Token));
        }

        Assert.False(File.Exists(shardBlob));
        Assert.False(File.Exists(Path.Combine(_kit.StorageFolder, "snapshots", _kit.MainCommit, FakeModelFiles.Shard1)));
        var partial = new FileInfo(shardBlob + ".incomplete");
        Assert.True(partial.Exists);
        Assert.InRange(partial.Length, 1, _kit.MainFiles[FakeModelFiles.Shard1].Length - 1);
        _kit.AssertCacheConsistent();

        _kit.Server.ChunkDelay = TimeSpan.Zero;
        var partialLength = partial.Length;
        using (var client = _kit.CreateClient())
        {
            var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);
            Assert.Equal(FakeRepo.Sha256(_kit.MainFiles[FakeModelFiles.Shard1]), HubTestKit.Sha256OfFile(Path.Combine(folder, FakeModelFiles.Shard1)));
        }

        Assert.Equal($"bytes={partialLength}-", _kit.Server.BodyRequests(FakeModelFiles.Shard1)[^1].Range);
        Assert.False(File.Exists(shardBlob + ".incomplete"));
        _kit.AssertCacheConsistent();
    }

    [Fact]
    public async Task A_partial_file_with_wrong_bytes_is_caught_after_resume_and_replaced()
    {
        // A partial file from an earlier run whose bytes are wrong: the resumed file fails its sha256 and is re-fetched whole.
        var shard = _kit.MainFiles[FakeModelFiles.Shard1];
        var blob = Path.Combine(_kit.StorageFolder, "blobs", FakeRepo.Sha256(shard));
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        await File.WriteAllBytesAsync(blob + ".incomplete", new byte[50_000]);
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId, filter: OnlyShards);

        Assert.Equal(FakeRepo.Sha256(shard), HubTestKit.Sha256OfFile(Path.Combine(folder, FakeModelFiles.Shard1)));
        var bodies = _kit.Server.BodyRequests(FakeModelFiles.Shard1);
        Assert.Equal(["bytes=50000-", null], bodies.Select(b => b.Range));
    }

    [Fact]
    public async Task A_partial_file_locked_by_another_process_is_waited_for_and_not_fetched_twice()
    {
        var shard = _kit.MainFiles[FakeModelFiles.Shard2];
        var blob = Path.Combine(_kit.StorageFolder, "blobs", FakeRepo.Sha256(shard));
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        var otherProcess = new FileStream(blob + ".incomplete", FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        using var client = _kit.CreateClient();

        var download = client.DownloadFileAsync(HubTestKit.RepoId, FakeModelFiles.Shard2);
        await Task.Delay(700);

        Assert.False(download.IsCompleted);
        Assert.Empty(_kit.Server.BodyRequests(FakeModelFiles.Shard2));

        // The other process finishes: the blob appears and the lock is released.
        await File.WriteAllBytesAsync(blob, shard);
        await otherProcess.DisposeAsync();
        File.Delete(blob + ".incomplete");
        var path = await download;

        Assert.Equal(FakeRepo.Sha256(shard), HubTestKit.Sha256OfFile(path));
        Assert.Empty(_kit.Server.BodyRequests(FakeModelFiles.Shard2));
    }
}
