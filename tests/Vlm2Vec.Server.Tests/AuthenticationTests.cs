using System.Net.Http.Headers;

namespace Vlm2Vec.Server.Tests;

/// <summary>API keys: 401 without or with a wrong key, Bearer and api-key headers accepted, /health open.</summary>
public sealed class AuthenticationTests : IAsyncLifetime
{
    private const string Key = "sk-local-0123456789";
    private const string OtherKey = "sk-other-abcdefghij";
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o => o with { ApiKeys = [Key, OtherKey] });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sk-local-012345678")]
    [InlineData("sk-local-0123456789x")]
    public async Task A_missing_or_wrong_key_is_401_with_www_authenticate(string? key)
    {
        var reply = await _server.PostAsync(Json.Embeddings("x"), apiKey: key);
        Assert.Equal(401, reply.Code);
        Assert.Equal("invalid_api_key", reply.Error.GetProperty("code").GetString());
        Assert.Equal("authentication_error", reply.Error.GetProperty("type").GetString());
        Assert.Equal("Bearer", reply.WwwAuthenticate);

        var models = await _server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/models"));
        Assert.Equal(401, models.Code);
    }

    [Fact]
    public async Task Every_configured_key_works_as_bearer_or_api_key_header()
    {
        Assert.Equal(200, (await _server.PostAsync(Json.Embeddings("x"), apiKey: Key)).Code);
        Assert.Equal(200, (await _server.PostAsync(Json.Embeddings("x"), apiKey: OtherKey)).Code);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StringContent(Json.Embeddings("x"), MediaTypeHeaderValue.Parse("application/json")) };
        request.Headers.Add("api-key", Key);
        Assert.Equal(200, (await _server.SendAsync(request)).Code);
    }

    [Fact]
    public async Task Health_needs_no_key()
    {
        Assert.Equal(200, (await _server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"))).Code);
    }
}
