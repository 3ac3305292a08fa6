namespace Vlm2Vec.Server.Tests;

/// <summary>The documented extension: image items (data URL or base64) with text, instructions and roles.</summary>
public sealed class MultimodalExtensionTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static MultimodalInput Image(string name, string? instruction = null, string? text = null, EmbeddingRole role = EmbeddingRole.Query) =>
        MultimodalInput.FromImage(ImageInput.FromBytes(TestModel.ImageBytes(name)), instruction, text, role);

    [Fact]
    public async Task A_data_url_string_is_an_image_input()
    {
        var reply = await _server.PostAsync(Json.Embeddings(new[] { TestModel.DataUrl("hopper"), "plain text" }));

        Assert.Equal(200, reply.Code);
        var vectors = reply.Vectors();
        Assert.Equal(TestModel.Expected(Image("hopper")), vectors[0]);
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("plain text")), vectors[1]);
        Assert.Equal(TestModel.Tokens(Image("hopper")) + TestModel.Tokens(MultimodalInput.FromText("plain text")),
            reply.Json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task An_item_with_image_text_instruction_and_role_matches_the_offline_embedding()
    {
        var body = Json.Of(new
        {
            model = TestModel.Name,
            input = new object[]
            {
                new { image = Convert.ToBase64String(TestModel.ImageBytes("accordion")), text = "What instrument is this?", instruction = "Represent the given image with the following question:" },
                new { image_url = new { url = TestModel.DataUrl("hopper") }, role = "target" },
                new { type = "image_url", image_url = TestModel.DataUrl("hopper") },
            },
        });
        var reply = await _server.PostAsync(body);

        Assert.True(reply.Code == 200, reply.Body);
        var vectors = reply.Vectors();
        Assert.Equal(TestModel.Expected(Image("accordion", "Represent the given image with the following question:", "What instrument is this?")), vectors[0]);
        Assert.Equal(TestModel.Expected(Image("hopper", role: EmbeddingRole.Target)), vectors[1]);
        Assert.Equal(TestModel.Expected(Image("hopper")), vectors[2]);
    }

    [Fact]
    public async Task A_request_instruction_applies_to_every_item_and_an_item_instruction_wins()
    {
        const string Shared = "Find an image that matches the given caption.";
        var body = Json.Of(new
        {
            model = TestModel.Name,
            instruction = Shared,
            input = new object[] { "a red bus", new { text = "a blue boat", instruction = "Retrieve a boat:" }, new { text = "no instruction", instruction = "" } },
        });
        var reply = await _server.PostAsync(body);

        Assert.Equal(200, reply.Code);
        var vectors = reply.Vectors();
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("a red bus", Shared)), vectors[0]);
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("a blue boat", "Retrieve a boat:")), vectors[1]);
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("no instruction")), vectors[2]);
        Assert.NotEqual(TestModel.Expected(MultimodalInput.FromText("a red bus")), vectors[0]);
    }

    [Fact]
    public async Task Instructions_can_be_given_one_per_input_with_a_request_role()
    {
        var body = Json.Of(new { model = TestModel.Name, input = new[] { "one", "two" }, instruction = new[] { "First:", null }, role = "target" });
        var reply = await _server.PostAsync(body);

        Assert.Equal(200, reply.Code);
        var vectors = reply.Vectors();
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("one", "First:", EmbeddingRole.Target)), vectors[0]);
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("two", null, EmbeddingRole.Target)), vectors[1]);
    }

    [Fact]
    public async Task The_server_default_instruction_applies_when_the_request_gives_none()
    {
        await using var server = await TestServer.StartAsync(o => o with { DefaultInstruction = "Represent the document:" });
        var reply = await server.PostAsync(Json.Embeddings(new[] { "doc" }));
        Assert.Equal(TestModel.Expected(MultimodalInput.FromText("doc", "Represent the document:")), Assert.Single(reply.Vectors()));
    }
}
