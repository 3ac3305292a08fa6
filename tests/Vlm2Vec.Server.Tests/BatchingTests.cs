namespace Vlm2Vec.Server.Tests;

/// <summary>The dynamic batcher: concurrent requests coalesce within the budgets, results go back to the right request
/// and index, and one bad input fails only its own request.</summary>
public sealed class BatchingTests
{
    private static string[] Texts(int count, string prefix = "request") =>
        Enumerable.Range(0, count).Select(i => $"{prefix} number {i} about {(i % 3 == 0 ? "cats" : i % 3 == 1 ? "a long sentence on boats and rivers" : "x")}").ToArray();

    [Fact]
    public async Task Concurrent_requests_are_coalesced_into_batches_within_the_row_budget()
    {
        var encoder = TestModel.Encoder(batchLatency: TimeSpan.FromMilliseconds(40));
        await using var server = await TestServer.StartAsync(o => o with { Batching = new DynamicBatchingOptions { MaxBatchSize = 8, MaxWait = TimeSpan.FromMilliseconds(20) } }, encoder);
        var texts = Texts(24);

        var replies = await Task.WhenAll(texts.Select(t => server.PostAsync(Json.Embeddings(t))));

        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(200, replies[i].Code);
            Assert.Equal(TestModel.Expected(MultimodalInput.FromText(texts[i])), Assert.Single(replies[i].Vectors()));
        }

        var batches = encoder.Batches.ToList();
        Assert.Equal(24, batches.Sum(b => b.Rows));
        Assert.All(batches, b => Assert.InRange(b.Rows, 1, 8));
        Assert.Contains(batches, b => b.Rows > 1);
        Assert.True(batches.Count < 24, $"{batches.Count} batches for 24 concurrent requests: nothing was coalesced.");
    }

    [Fact]
    public async Task Batches_respect_the_token_budget_and_multi_input_requests_keep_their_order()
    {
        var encoder = TestModel.Encoder(batchLatency: TimeSpan.FromMilliseconds(20));
        await using var server = await TestServer.StartAsync(
            o => o with { Batching = new DynamicBatchingOptions { MaxBatchSize = 32, MaxBatchTokens = 60, MaxWait = TimeSpan.FromMilliseconds(20) } }, encoder);
        var requests = Enumerable.Range(0, 6).Select(r => Texts(5, $"req{r}")).ToList();

        var replies = await Task.WhenAll(requests.Select(texts => server.PostAsync(Json.Embeddings(texts))));

        for (var r = 0; r < requests.Count; r++)
        {
            Assert.Equal(200, replies[r].Code);
            var vectors = replies[r].Vectors();
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(TestModel.Expected(MultimodalInput.FromText(requests[r][i])), vectors[i]);
            }
        }

        var batches = encoder.Batches.ToList();
        Assert.Equal(30, batches.Sum(b => b.Rows));
        Assert.All(batches, b => Assert.True(b.Rows == 1 || b.Rows * b.SequenceLength <= 60, $"{b.Rows} rows × {b.SequenceLength} tokens > 60"));
        Assert.Contains(batches, b => b.Rows > 1);
    }

    [Fact]
    public async Task A_bad_input_fails_only_its_own_request_even_inside_a_shared_batch()
    {
        var poison = TestModel.Preprocessor.Tokenizer.Encode(" hippopotamus").Max();
        var encoder = TestModel.Encoder(batchLatency: TimeSpan.FromMilliseconds(40), poisonTokenId: poison);
        await using var server = await TestServer.StartAsync(o => o with { Batching = new DynamicBatchingOptions { MaxBatchSize = 16, MaxWait = TimeSpan.FromMilliseconds(30) } }, encoder);
        var bodies = Texts(10).Select(t => Json.Embeddings(t)).ToList();
        bodies[4] = Json.Embeddings(new[] { "fine", "a hippopotamus in the river", "also fine" });

        var replies = await Task.WhenAll(bodies.Select(b => server.PostAsync(b)));

        Assert.Equal(500, replies[4].Code);
        Assert.Equal("input[1]", replies[4].Error.GetProperty("param").GetString());
        Assert.Equal("server_error", replies[4].Error.GetProperty("type").GetString());
        var texts = Texts(10);
        for (var i = 0; i < 10; i++)
        {
            if (i != 4)
            {
                Assert.Equal(200, replies[i].Code);
                Assert.Equal(TestModel.Expected(MultimodalInput.FromText(texts[i])), Assert.Single(replies[i].Vectors()));
            }
        }

        // The shared batch failed once and its rows were retried one by one.
        Assert.Contains(encoder.Batches, b => b.Rows == 1);
        Assert.Equal(200, (await server.PostAsync(Json.Embeddings("after the failure"))).Code);
    }

    [Fact]
    public async Task A_cancelled_request_releases_its_place_and_the_server_keeps_serving()
    {
        // The slow batch must outlast the server's notice of the client's disconnect, which takes a thread-pool turn
        // and lagged past one second when the test assemblies run in parallel on two cores.
        var encoder = TestModel.Encoder(batchLatency: TimeSpan.FromMilliseconds(3000));
        await using var server = await TestServer.StartAsync(o => o with { Batching = new DynamicBatchingOptions { MaxBatchSize = 1 } }, encoder);
        var slow = server.PostAsync(Json.Embeddings("occupies the encoder"));
        while ((await server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"))).Json.GetProperty("in_flight").GetInt32() == 0)
        {
            await Task.Delay(5);
        }

        using (var impatient = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMilliseconds(100) })
        {
            await Assert.ThrowsAnyAsync<TaskCanceledException>(() =>
                impatient.PostAsync("/v1/embeddings", new StringContent(Json.Embeddings("gives up"), System.Text.Encoding.UTF8, "application/json")));
        }

        Assert.Equal(200, (await slow).Code);
        Assert.Equal(200, (await server.PostAsync(Json.Embeddings("next"))).Code);
        var health = await server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"));
        Assert.Equal(0, health.Json.GetProperty("in_flight").GetInt32());
        Assert.DoesNotContain(encoder.Batches, b => b.Rows > 1);
        Assert.Equal(2, encoder.Batches.Count);
    }
}
