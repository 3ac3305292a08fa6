using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Vlm2Vec.Server.Tests.Fakes;

namespace Vlm2Vec.Server.Tests;

/// <summary>The real server (Kestrel on an ephemeral loopback port) around a hashing encoder, with a raw HTTP client.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(Vlm2VecServerHost host, HashingEncoder? encoder)
    {
        Host = host;
        Encoder = encoder;
        BaseAddress = host.Addresses.Single();
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Vlm2VecServerHost Host { get; }

    public HashingEncoder? Encoder { get; }

    public Uri BaseAddress { get; }

    /// <summary>The OpenAI base address (<c>http://127.0.0.1:port/v1</c>).</summary>
    public Uri V1 => new(BaseAddress, "/v1");

    public HttpClient Http { get; }

    public static Task<TestServer> StartAsync(Func<Vlm2VecServerOptions, Vlm2VecServerOptions>? configure = null, HashingEncoder? encoder = null) =>
        StartAsync(configure, encoder ??= TestModel.Encoder(), _ => Task.FromResult<IVlm2VecEncoder>(encoder), waitForModel: true);

    public static async Task<TestServer> StartAsync(
        Func<Vlm2VecServerOptions, Vlm2VecServerOptions>? configure, HashingEncoder? encoder, Func<CancellationToken, Task<IVlm2VecEncoder>> load, bool waitForModel)
    {
        var options = new Vlm2VecServerOptions { Urls = ["http://127.0.0.1:0"], ShutdownTimeout = TimeSpan.FromSeconds(10) };
        options = configure?.Invoke(options) ?? options;
        var host = Vlm2VecServerHost.Create(options, load);
        await host.StartAsync();
        if (waitForModel)
        {
            await host.WaitForModelAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }

        return new TestServer(host, encoder);
    }

    public async Task<Reply> PostAsync(string json, string path = "/v1/embeddings", string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return await SendAsync(request);
    }

    public async Task<Reply> SendAsync(HttpRequestMessage request)
    {
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, body, response.Headers.RetryAfter?.Delta, response.Headers.WwwAuthenticate.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Host.StopAsync();
        await Host.DisposeAsync();
    }

    /// <summary>An answer: status, body, parsed JSON.</summary>
    public sealed record Reply(System.Net.HttpStatusCode Status, string Body, TimeSpan? RetryAfter, string WwwAuthenticate)
    {
        public int Code => (int)Status;

        public JsonElement Json => JsonDocument.Parse(Body).RootElement;

        public JsonElement Error => Json.GetProperty("error");

        /// <summary>The float vectors of a 200 answer, in <c>data</c> order (index checked).</summary>
        public float[][] Vectors()
        {
            var data = Json.GetProperty("data");
            var vectors = new float[data.GetArrayLength()][];
            var i = 0;
            foreach (var item in data.EnumerateArray())
            {
                Assert.Equal("embedding", item.GetProperty("object").GetString());
                Assert.Equal(i, item.GetProperty("index").GetInt32());
                var embedding = item.GetProperty("embedding");
                vectors[i++] = embedding.ValueKind == JsonValueKind.String
                    ? DecodeBase64(embedding.GetString()!)
                    : embedding.EnumerateArray().Select(v => v.GetSingle()).ToArray();
            }

            return vectors;
        }

        public static float[] DecodeBase64(string value)
        {
            var bytes = Convert.FromBase64String(value);
            var floats = new float[bytes.Length / 4];
            for (var i = 0; i < floats.Length; i++)
            {
                floats[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
            }

            return floats;
        }
    }
}
