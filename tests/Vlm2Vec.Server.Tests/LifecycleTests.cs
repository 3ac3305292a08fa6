using Vlm2Vec.Server.Tests.Fakes;

namespace Vlm2Vec.Server.Tests;

/// <summary>Loading, load failure, a full queue, graceful shutdown and the security defaults.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task While_loading_health_and_embeddings_answer_503_with_retry_after_then_serve()
    {
        var release = new TaskCompletionSource();
        var encoder = TestModel.Encoder();
        await using var server = await TestServer.StartAsync(null, encoder, async ct =>
        {
            await release.Task.WaitAsync(ct);
            return encoder;
        }, waitForModel: false);

        var health = await server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"));
        Assert.Equal(503, health.Code);
        Assert.Equal("loading", health.Json.GetProperty("status").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), health.RetryAfter);
        var early = await server.PostAsync(Json.Embeddings("too early"));
        Assert.Equal(503, early.Code);
        Assert.Equal("model_not_ready", early.Error.GetProperty("code").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), early.RetryAfter);

        release.SetResult();
        await server.Host.WaitForModelAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, (await server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"))).Code);
        Assert.Equal(200, (await server.PostAsync(Json.Embeddings("now"))).Code);
    }

    [Fact]
    public async Task A_model_that_fails_to_load_is_reported_by_health_and_refused_with_503()
    {
        await using var server = await TestServer.StartAsync(
            null, null, _ => Task.FromException<IVlm2VecEncoder>(new ModelFormatException("vlm2vec.json is missing (test).")), waitForModel: false);
        await Assert.ThrowsAsync<ModelFormatException>(() => server.Host.WaitForModelAsync());

        var health = await server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"));
        Assert.Equal(503, health.Code);
        Assert.Equal("failed", health.Json.GetProperty("status").GetString());
        Assert.Contains("vlm2vec.json is missing", health.Json.GetProperty("error").GetString(), StringComparison.Ordinal);
        var reply = await server.PostAsync(Json.Embeddings("x"));
        Assert.Equal(503, reply.Code);
        Assert.Equal("model_load_failed", reply.Error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_retry_after_and_recovers()
    {
        var encoder = TestModel.Encoder(batchLatency: TimeSpan.FromMilliseconds(400));
        await using var server = await TestServer.StartAsync(
            o => o with { Limits = new Vlm2VecServerLimits { MaxQueuedItems = 4, MaxItemsPerRequest = 4 }, RetryAfterSeconds = 2 }, encoder);
        var first = server.PostAsync(Json.Embeddings(new[] { "a", "b", "c", "d" }));
        await WaitUntilAsync(async () => (await server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"))).Json.GetProperty("in_flight").GetInt32() == 4);

        var refused = await server.PostAsync(Json.Embeddings("one more"));

        Assert.Equal(429, refused.Code);
        Assert.Equal("queue_full", refused.Error.GetProperty("code").GetString());
        Assert.Equal("rate_limit_error", refused.Error.GetProperty("type").GetString());
        Assert.Equal(TimeSpan.FromSeconds(2), refused.RetryAfter);
        Assert.Equal(200, (await first).Code);
        Assert.Equal(200, (await server.PostAsync(Json.Embeddings("one more"))).Code);
    }

    [Fact]
    public async Task Shutdown_drains_in_flight_requests_then_releases_the_model()
    {
        var encoder = TestModel.Encoder(batchLatency: TimeSpan.FromMilliseconds(600));
        var server = await TestServer.StartAsync(null, encoder);
        var inFlight = server.PostAsync(Json.Embeddings(new[] { "finish me", "and me" }));
        await WaitUntilAsync(async () => (await server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"))).Json.GetProperty("in_flight").GetInt32() == 2);

        var stopping = server.Host.StopAsync();
        var reply = await inFlight;
        await stopping;

        Assert.Equal(200, reply.Code);
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("and me")), reply.Vectors()[1]);
        await Assert.ThrowsAsync<HttpRequestException>(() => server.Http.PostAsync("/v1/embeddings", new StringContent(Json.Embeddings("late"))));
        await server.Host.DisposeAsync();
        Assert.True(encoder.Disposed);
    }

    [Fact]
    public void The_defaults_bind_to_loopback_with_no_key_and_bad_settings_are_refused()
    {
        var defaults = new Vlm2VecServerOptions();
        Assert.Equal(["http://127.0.0.1:8080"], defaults.Urls);
        Assert.Empty(defaults.ApiKeys);
        defaults.Validate();

        Assert.Throws<ArgumentException>(() => (defaults with { Urls = ["https://127.0.0.1:8443"] }).Validate());
        Assert.Throws<ArgumentException>(() => (defaults with { Urls = ["http://127.0.0.1:8080/v1"] }).Validate());
        Assert.Throws<ArgumentException>(() => (defaults with { ApiKeys = ["short"] }).Validate());
        Assert.ThrowsAny<ArgumentException>(() => (defaults with { Limits = new Vlm2VecServerLimits { MaxItemsPerRequest = 10, MaxQueuedItems = 5 } }).Validate());
        Assert.ThrowsAny<ArgumentException>(() => (defaults with { Batching = new DynamicBatchingOptions { MaxBatchSize = 0 } }).Validate());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition was not met within 20 s.");
            await Task.Delay(10);
        }
    }
}
