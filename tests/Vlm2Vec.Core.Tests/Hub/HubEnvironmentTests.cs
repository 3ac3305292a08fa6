using Vlm2Vec.Hub;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Hub;

public sealed class HubEnvironmentTests : IDisposable
{
    private readonly TempFolder _home = new("vlm2vec-hub-home");

    public void Dispose() => _home.Dispose();

    [Fact]
    public void With_an_empty_environment_everything_follows_python_defaults()
    {
        var settings = Resolve(new HubClientOptions(), []);

        Assert.Equal(new Uri("https://huggingface.co/"), settings.Endpoint);
        Assert.Equal(Path.Combine(_home.Path, ".cache", "huggingface", "hub"), settings.CacheFolder);
        Assert.Equal(Path.Combine(_home.Path, ".cache", "huggingface", "token"), settings.TokenPath);
        Assert.Null(settings.Token);
        Assert.False(settings.Offline);
        Assert.True(settings.UseSymlinks);
        Assert.StartsWith("vlm2vec/", settings.UserAgent, StringComparison.Ordinal);
    }

    [Fact]
    public void Hf_home_moves_the_cache_and_the_token_file_which_is_read_and_trimmed()
    {
        var hfHome = _home.Combine("hf");
        Directory.CreateDirectory(hfHome);
        File.WriteAllText(Path.Combine(hfHome, "token"), "  hf_file_token\n");

        var settings = Resolve(new HubClientOptions(), new() { ["HF_HOME"] = hfHome });

        Assert.Equal(Path.Combine(hfHome, "hub"), settings.CacheFolder);
        Assert.Equal("hf_file_token", settings.Token);
    }

    [Fact]
    public void Explicit_variables_win_over_derived_paths_and_the_token_file()
    {
        var hfHome = _home.Combine("hf");
        Directory.CreateDirectory(hfHome);
        File.WriteAllText(Path.Combine(hfHome, "token"), "hf_file_token");

        var settings = Resolve(new HubClientOptions(), new()
        {
            ["HF_HOME"] = hfHome,
            ["HF_HUB_CACHE"] = _home.Combine("elsewhere"),
            ["HF_TOKEN"] = "hf_env_token",
            ["HF_ENDPOINT"] = "https://mirror.example/",
        });

        Assert.Equal(_home.Combine("elsewhere"), settings.CacheFolder);
        Assert.Equal("hf_env_token", settings.Token);
        Assert.Equal("https://mirror.example", settings.EndpointBase);
    }

    [Fact]
    public void Xdg_cache_home_and_a_tilde_are_honoured()
    {
        var settings = Resolve(new HubClientOptions(), new() { ["XDG_CACHE_HOME"] = "~/xdg", ["HF_TOKEN_PATH"] = "~/secrets/hf" });

        Assert.Equal(Path.Combine(_home.Path, "xdg", "huggingface", "hub"), settings.CacheFolder);
        Assert.Equal(Path.Combine(_home.Path, "secrets/hf"), settings.TokenPath);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("YES", true)]
    [InlineData("On", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    public void Hf_hub_offline_accepts_pythons_truthy_values(string value, bool offline)
    {
        Assert.Equal(offline, Resolve(new HubClientOptions(), new() { ["HF_HUB_OFFLINE"] = value }).Offline);
    }

    [Fact]
    public void Options_override_the_environment_and_an_empty_token_sends_none()
    {
        var settings = Resolve(
            new HubClientOptions { Token = string.Empty, CacheFolder = _home.Combine("mine"), Offline = false, Endpoint = "http://127.0.0.1:9/" },
            new() { ["HF_TOKEN"] = "hf_env_token", ["HF_HUB_OFFLINE"] = "1", ["HF_HUB_CACHE"] = "/nope" });

        Assert.Null(settings.Token);
        Assert.False(settings.Offline);
        Assert.Equal(_home.Combine("mine"), settings.CacheFolder);
        Assert.Equal("http://127.0.0.1:9", settings.EndpointBase);
    }

    [Fact]
    public void Invalid_options_are_refused_with_what_is_allowed()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Resolve(new HubClientOptions { MaxParallelDownloads = 0 }, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => Resolve(new HubClientOptions { MaxRetries = -1 }, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => Resolve(new HubClientOptions { ReadTimeout = TimeSpan.Zero }, []));
        var error = Assert.Throws<ArgumentException>(() => Resolve(new HubClientOptions { Endpoint = "ftp://hub" }, []));
        Assert.Contains("http(s)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retry_delays_double_with_jitter_and_respect_retry_after()
    {
        var settings = Resolve(new HubClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(100) }, []);

        Assert.InRange(settings.RetryDelay(1).TotalMilliseconds, 75, 125);
        Assert.InRange(settings.RetryDelay(3).TotalMilliseconds, 300, 500);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.RetryDelay(30));
        Assert.Equal(TimeSpan.FromSeconds(2), settings.RetryDelay(1, TimeSpan.FromSeconds(2)));
    }

    private HubSettings Resolve(HubClientOptions options, Dictionary<string, string> environment) =>
        HubSettings.Resolve(options, new HubEnvironment(name => environment.GetValueOrDefault(name), _home.Path));
}
