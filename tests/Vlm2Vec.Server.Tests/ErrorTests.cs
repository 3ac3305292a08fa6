using System.Net.Http.Headers;
using System.Text;

namespace Vlm2Vec.Server.Tests;

/// <summary>Every error path over raw HTTP: OpenAI's error JSON, the status code, and the field at fault.</summary>
public sealed class ErrorTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o => o with
    {
        Limits = new Vlm2VecServerLimits
        {
            MaxItemsPerRequest = 4,
            MaxTextLength = 200,
            MaxImageBytes = 200_000,
            MaxImagePixels = 1_000_000,
            MaxRequestBodyBytes = 400_000,
            MaxImagesPerRequest = 2,
            MaxInputTokens = 64,
        },
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static void AssertError(TestServer.Reply reply, int status, string? code, string? param, string messagePart)
    {
        Assert.True(reply.Code == status, $"Expected {status}, got {reply.Code}: {reply.Body}");
        var error = reply.Error;
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(messagePart, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
    }

    [Theory]
    [InlineData("{not json", null, null, "not valid JSON")]
    [InlineData("[1,2]", null, null, "must be a JSON object")]
    [InlineData("{\"input\":\"x\"}", null, "model", "'model' is required")]
    [InlineData("{\"model\":\"vlm2vec-test\"}", null, "input", "'input' is required")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[]}", null, "input", "empty array")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":\"\"}", null, "input", "empty string")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":42}", null, "input", "must be a string")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[\"ok\",true]}", null, "input[1]", "must be a string or an image item")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[1,2,3]}", "unsupported_input", "input", "Token-id input is not supported")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[[1,2],[3]]}", "unsupported_input", "input", "check_embedding_ctx_length=False")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":\"x\",\"encoding_format\":\"int8\"}", null, "encoding_format", "'float' or 'base64'")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":\"x\",\"dimensions\":0}", null, "dimensions", "positive integer")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":\"x\",\"dimensions\":32}", "unsupported_dimensions", "dimensions", "only produces 64-dimensional")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":\"x\",\"role\":\"document\"}", null, "role", "\"query\" or \"target\"")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[\"a\",\"b\"],\"instruction\":[\"one\"]}", null, "instruction", "one per input")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[{\"txt\":\"a\"}]}", null, "input[0].txt", "allowed: text, image")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[{\"instruction\":\"a\"}]}", null, "input[0]", "neither text nor an image")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[{\"image\":\"https://example.invalid/cat.png\"}]}", "invalid_image", "input[0].image", "never fetches URLs")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[{\"image\":\"file:///etc/passwd\"}]}", "invalid_image", "input[0].image", "never fetches URLs")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":[{\"image\":\"/etc/passwd\"}]}", "invalid_image", "input[0].image", "file paths and URLs are never read")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":\"data:text/plain;base64,aGVsbG8=\"}", "invalid_image", "input", "only image/* is accepted")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":\"data:image/png,rawbytes\"}", "invalid_image", "input", "must be a base64 data URL")]
    [InlineData("{\"model\":\"vlm2vec-test\",\"input\":\"data:image/png;base64,@@@@\"}", "invalid_image", "input", "not valid base64")]
    public async Task Malformed_requests_are_400_naming_the_field(string body, string? code, string? param, string message)
    {
        AssertError(await _server.PostAsync(body), 400, code, param, message);
    }

    [Fact]
    public async Task An_unknown_model_is_404_and_names_the_served_one()
    {
        AssertError(await _server.PostAsync(Json.Embeddings("x", model: "gpt-4")), 404, "model_not_found", "model", "serves 'vlm2vec-test'");
    }

    [Fact]
    public async Task An_undecodable_image_is_400_for_its_item()
    {
        var garbage = "data:image/png;base64," + Convert.ToBase64String(Encoding.ASCII.GetBytes("this is not a PNG file at all"));
        AssertError(await _server.PostAsync(Json.Embeddings(new[] { "fine", garbage })), 400, "invalid_image", "input[1]", "input[1]:");
    }

    [Fact]
    public async Task An_input_over_the_token_limit_is_400_context_length_exceeded()
    {
        var text = string.Join(' ', Enumerable.Repeat("x", 100));
        AssertError(await _server.PostAsync(Json.Embeddings(new[] { "short", text })), 400, "context_length_exceeded", "input[1]", "64");
    }

    [Fact]
    public async Task Size_limits_are_413_with_the_limit_named()
    {
        AssertError(await _server.PostAsync(Json.Embeddings(new[] { "1", "2", "3", "4", "5" })), 413, "too_many_inputs", "input", "limit is 4");
        AssertError(await _server.PostAsync(Json.Embeddings(new string('x', 201))), 413, "text_too_long", "input", "limit is 200");
        AssertError(
            await _server.PostAsync(Json.Of(new { model = TestModel.Name, input = "x", instruction = new string('i', 200) })),
            413, "text_too_long", "input[0]", "limit is 200");
        var hopper = TestModel.DataUrl("hopper");
        AssertError(await _server.PostAsync(Json.Embeddings(new[] { hopper, hopper, hopper })), 413, "too_many_images", "input[2]", "more than 2 images");
    }

    [Fact]
    public async Task An_image_over_the_byte_limit_is_413()
    {
        var big = "data:image/png;base64," + Convert.ToBase64String(new byte[250_000]);
        AssertError(await _server.PostAsync(Json.Embeddings(big)), 413, "image_too_large", "input", "limit is 200,000 bytes");
    }

    [Fact]
    public async Task An_image_over_the_pixel_limit_is_413_before_decoding()
    {
        // A valid PNG header declaring 2000×2000 (4 MP > 1 MP); the limit is checked from the header.
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(2000, 2000);
        using var png = new MemoryStream();
        image.Save(png, new SixLabors.ImageSharp.Formats.Png.PngEncoder());
        var reply = await _server.PostAsync(Json.Embeddings("data:image/png;base64," + Convert.ToBase64String(png.ToArray())));
        AssertError(reply, 413, "image_too_large", "input[0]", "pixels");
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_by_content_length_and_while_streaming()
    {
        var body = Json.Embeddings(new string('x', 100)).Replace("\"model\"", "\"pad\":\"" + new string(' ', 450_000) + "\",\"model\"", StringComparison.Ordinal);
        AssertError(await _server.PostAsync(body), 413, "request_too_large", null, "limit of 400,000 bytes".Replace("of ", "is ", StringComparison.Ordinal));

        // Chunked: no Content-Length, so the limit trips while the body is read.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body))) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        AssertError(await _server.SendAsync(request), 413, "request_too_large", null, "over the limit of 400,000 bytes");
    }

    [Fact]
    public async Task Unknown_paths_get_an_openai_shaped_404()
    {
        var reply = await _server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/chat/completions"));
        AssertError(reply, 404, "unknown_url", null, "POST /v1/embeddings");
        AssertError(await _server.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/models/other")), 404, "model_not_found", "model", "'other'");
    }
}
