namespace Vlm2Vec.Server.Tests;

/// <summary>The OpenAI wire format over raw HTTP: input shapes, float and base64 vectors, usage, model echo.</summary>
public sealed class WireFormatTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o => o with { ModelAliases = ["text-embedding-3-small"] });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_string_input_gives_one_float_vector_with_usage_and_the_model_echoed()
    {
        var reply = await _server.PostAsync(Json.Embeddings("A cat sleeping on a sofa."));

        Assert.Equal(200, reply.Code);
        var json = reply.Json;
        Assert.Equal("list", json.GetProperty("object").GetString());
        Assert.Equal(TestModel.Name, json.GetProperty("model").GetString());
        var input = MultimodalInput.FromText("A cat sleeping on a sofa.");
        var vector = Assert.Single(reply.Vectors());
        Assert.Equal(TestModel.Expected(input), vector);
        Assert.Equal(TestModel.Tokens(input), json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(TestModel.Tokens(input), json.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task An_array_of_strings_keeps_input_order_and_sums_usage()
    {
        string[] texts = ["first", "a much longer second sentence about dogs", "third"];
        var reply = await _server.PostAsync(Json.Embeddings(texts));

        Assert.Equal(200, reply.Code);
        var vectors = reply.Vectors();
        Assert.Equal(3, vectors.Length);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(TestModel.Expected(MultimodalInput.FromText(texts[i])), vectors[i]);
        }

        Assert.Equal(texts.Sum(t => TestModel.Tokens(MultimodalInput.FromText(t))), reply.Json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Base64_is_the_little_endian_float32_bytes_of_the_same_vector()
    {
        var asFloat = await _server.PostAsync(Json.Embeddings(new[] { "red", "green" }, format: "float"));
        var asBase64 = await _server.PostAsync(Json.Embeddings(new[] { "red", "green" }, format: "base64"));

        Assert.Equal(200, asBase64.Code);
        var strings = asBase64.Json.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("embedding").GetString()!).ToList();
        Assert.All(strings, s => Assert.Equal(TestModel.Dimension * 4, Convert.FromBase64String(s).Length));
        Assert.Equal(asFloat.Vectors(), asBase64.Vectors());
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("green")), TestServer.Reply.DecodeBase64(strings[1]));
    }

    [Fact]
    public async Task Float_vectors_round_trip_exactly_and_are_unit_length()
    {
        var reply = await _server.PostAsync(Json.Embeddings("unit length"));
        var vector = Assert.Single(reply.Vectors());
        Assert.Equal(TestModel.Dimension, vector.Length);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 5);
    }

    [Fact]
    public async Task An_alias_is_accepted_and_echoed()
    {
        var reply = await _server.PostAsync(Json.Embeddings("alias", model: "text-embedding-3-small"));
        Assert.Equal(200, reply.Code);
        Assert.Equal("text-embedding-3-small", reply.Json.GetProperty("model").GetString());
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("alias")), Assert.Single(reply.Vectors()));
    }

    [Fact]
    public async Task Dimensions_equal_to_the_model_dimension_and_the_user_field_are_accepted()
    {
        var reply = await _server.PostAsync(Json.Of(new { model = TestModel.Name, input = "x y z", dimensions = TestModel.Dimension, user = "someone" }));
        Assert.Equal(200, reply.Code);
        Assert.Equal(TestModel.Dimension, Assert.Single(reply.Vectors()).Length);
    }

    [Fact]
    public async Task The_path_without_v1_works_for_clients_given_the_bare_host()
    {
        var reply = await _server.PostAsync(Json.Embeddings("bare"), path: "/embeddings");
        Assert.Equal(200, reply.Code);
    }

    [Fact]
    public async Task Models_lists_the_model_and_its_aliases_with_dimension_and_token_limit()
    {
        var reply = await _server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/models"));

        Assert.Equal(200, reply.Code);
        var data = reply.Json.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([TestModel.Name, "text-embedding-3-small"], data.Select(d => d.GetProperty("id").GetString()));
        Assert.All(data, d =>
        {
            Assert.Equal("model", d.GetProperty("object").GetString());
            Assert.Equal(TestModel.Dimension, d.GetProperty("dimension").GetInt32());
            Assert.Equal(32768, d.GetProperty("max_input_tokens").GetInt32());
            Assert.True(d.GetProperty("created").GetInt64() > 1_700_000_000);
        });

        var one = await _server.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/models/{TestModel.Name}"));
        Assert.Equal(200, one.Code);
        Assert.Equal(TestModel.Name, one.Json.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Health_is_ready_with_the_model()
    {
        var reply = await _server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health"));
        Assert.Equal(200, reply.Code);
        Assert.Equal("ready", reply.Json.GetProperty("status").GetString());
        Assert.Equal(TestModel.Name, reply.Json.GetProperty("model").GetString());
        Assert.Equal(TestModel.Dimension, reply.Json.GetProperty("dimension").GetInt32());
    }
}
