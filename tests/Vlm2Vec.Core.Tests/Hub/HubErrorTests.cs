using System.Net;
using System.Net.Sockets;
using Vlm2Vec.Hub;

namespace Vlm2Vec.Core.Tests.Hub;

public sealed class HubErrorTests : IDisposable
{
    private readonly HubTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task Private_repo_without_token_says_to_set_a_token_or_check_the_id()
    {
        _kit.Repo.PrivateToken = "hf_owner";
        _kit.Server.ValidTokens.Add("hf_owner");
        using var client = _kit.CreateClient();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(HubTestKit.RepoId));

        Assert.Equal(HubErrorKind.AuthenticationRequired, error.Kind);
        Assert.Equal(401, error.StatusCode);
        Assert.Equal(HubTestKit.RepoId, error.RepoId);
        Assert.Contains("HF_TOKEN", error.Message, StringComparison.Ordinal);
        Assert.Contains("misspelled", error.Message, StringComparison.Ordinal);
        Assert.Contains(HubTestKit.RepoId, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejected_token_is_reported_as_invalid_token()
    {
        _kit.Repo.PrivateToken = "hf_owner";
        _kit.Server.ValidTokens.Add("hf_owner");
        using var client = _kit.CreateClient(o => o.Token = "hf_typo");

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(HubTestKit.RepoId));

        Assert.Equal(HubErrorKind.InvalidToken, error.Kind);
        Assert.Equal(401, error.StatusCode);
        Assert.Contains("rejected", error.Message, StringComparison.Ordinal);
        Assert.Contains("/settings/tokens", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_right_token_opens_a_private_repo()
    {
        _kit.Repo.PrivateToken = "hf_owner";
        _kit.Server.ValidTokens.Add("hf_owner");
        using var client = _kit.CreateClient(o => o.Token = "hf_owner");

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        Assert.Equal(_kit.MainFiles["config.json"], File.ReadAllBytes(Path.Combine(folder, "config.json")));
    }

    [Fact]
    public async Task The_token_comes_from_the_token_file_under_hf_home_when_not_given()
    {
        _kit.Repo.PrivateToken = "hf_from_file";
        _kit.Server.ValidTokens.Add("hf_from_file");
        var hfHome = _kit.Cache.Combine("hf-home");
        Directory.CreateDirectory(hfHome);
        await File.WriteAllTextAsync(Path.Combine(hfHome, "token"), "hf_from_file\n");
        using var client = _kit.CreateClient(o => o.Token = null, new Dictionary<string, string> { ["HF_HOME"] = hfHome });

        await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        Assert.All(_kit.Server.Requests.Where(r => !r.Cdn), r => Assert.Equal("Bearer hf_from_file", r.Authorization));
    }

    [Fact]
    public async Task A_valid_token_without_access_to_a_private_repo_gets_repository_not_found()
    {
        _kit.Repo.PrivateToken = "hf_owner";
        _kit.Server.ValidTokens.UnionWith(["hf_owner", "hf_stranger"]);
        using var client = _kit.CreateClient(o => o.Token = "hf_stranger");

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(HubTestKit.RepoId));

        Assert.Equal(HubErrorKind.RepositoryNotFound, error.Kind);
        Assert.Equal(404, error.StatusCode);
    }

    [Fact]
    public async Task An_unknown_repo_is_a_404_that_points_at_a_typo()
    {
        _kit.Server.ValidTokens.Add("hf_user");
        using var client = _kit.CreateClient(o => o.Token = "hf_user");

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync("test-org/tiny-vlm2vek"));

        Assert.Equal(HubErrorKind.RepositoryNotFound, error.Kind);
        Assert.Equal(404, error.StatusCode);
        Assert.Contains("'test-org/tiny-vlm2vek'", error.Message, StringComparison.Ordinal);
        Assert.Contains("typos", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_repo_asked_anonymously_mentions_both_a_typo_and_a_token()
    {
        using var client = _kit.CreateClient();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync("test-org/does-not-exist"));

        Assert.Equal(HubErrorKind.AuthenticationRequired, error.Kind);
        Assert.Contains("misspelled", error.Message, StringComparison.Ordinal);
        Assert.Contains("HF_TOKEN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gated_repo_without_granted_access_says_to_accept_its_conditions()
    {
        _kit.Repo.GatedGrantedTokens = ["hf_granted"];
        _kit.Server.ValidTokens.UnionWith(["hf_granted", "hf_pending"]);
        using var pending = _kit.CreateClient(o => o.Token = "hf_pending");

        var error = await Assert.ThrowsAsync<HubException>(() => pending.DownloadSnapshotAsync(HubTestKit.RepoId));

        Assert.Equal(HubErrorKind.GatedRepository, error.Kind);
        Assert.Equal(403, error.StatusCode);
        Assert.Contains("accept its conditions", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{_kit.Server.Endpoint}/{HubTestKit.RepoId}", error.Message, StringComparison.Ordinal);

        using var granted = _kit.CreateClient(o => o.Token = "hf_granted");
        Assert.True(Directory.Exists(await granted.DownloadSnapshotAsync(HubTestKit.RepoId)));
    }

    [Fact]
    public async Task An_unknown_revision_is_revision_not_found()
    {
        using var client = _kit.CreateClient();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(HubTestKit.RepoId, "v9.9"));

        Assert.Equal(HubErrorKind.RevisionNotFound, error.Kind);
        Assert.Contains("'v9.9'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_file_is_file_not_found()
    {
        using var client = _kit.CreateClient();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(HubTestKit.RepoId, "adapter_config.json"));

        Assert.Equal(HubErrorKind.FileNotFound, error.Kind);
        Assert.Equal("adapter_config.json", error.FileName);
    }

    [Theory]
    [InlineData("a/b/c")]
    [InlineData("org/../name")]
    [InlineData("org/na--me")]
    [InlineData("org/name with space")]
    [InlineData("")]
    public async Task A_malformed_repo_id_is_refused_before_any_request(string repoId)
    {
        using var client = _kit.CreateClient();

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(repoId));

        Assert.Equal(HubErrorKind.InvalidRepositoryId, error.Kind);
        Assert.Empty(_kit.Server.Requests);
    }

    [Fact]
    public async Task Transient_server_errors_are_retried_with_backoff()
    {
        _kit.Server.ListingFailures = 2;
        using var client = _kit.CreateClient();

        var folder = await client.DownloadSnapshotAsync(HubTestKit.RepoId);

        Assert.True(File.Exists(Path.Combine(folder, "config.json")));
        var listings = _kit.Server.Requests.Where(r => r.Path.StartsWith("/api/", StringComparison.Ordinal)).Select(r => r.Status);
        Assert.Equal([503, 503, 200], listings);
    }

    [Fact]
    public async Task A_server_error_that_persists_becomes_a_server_error_after_all_retries()
    {
        _kit.Server.ListingFailures = int.MaxValue;
        using var client = _kit.CreateClient(o => o.MaxRetries = 2);

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(HubTestKit.RepoId));

        Assert.Equal(HubErrorKind.ServerError, error.Kind);
        Assert.Equal(503, error.StatusCode);
        Assert.Equal(3, _kit.Server.Requests.Count);
    }

    [Fact]
    public async Task An_unreachable_hub_is_a_network_failure()
    {
        var closedPort = ClosedPort();
        using var client = _kit.CreateClient(o =>
        {
            o.Endpoint = $"http://127.0.0.1:{closedPort}";
            o.MaxRetries = 1;
        });

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadSnapshotAsync(HubTestKit.RepoId));

        Assert.Equal(HubErrorKind.NetworkFailure, error.Kind);
        Assert.Contains("HF_HUB_OFFLINE", error.Message, StringComparison.Ordinal);
    }

    internal static int ClosedPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
