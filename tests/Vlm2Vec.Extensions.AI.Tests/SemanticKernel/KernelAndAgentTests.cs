using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Microsoft.SemanticKernel;
using Vlm2Vec.Extensions.AI.SemanticKernel;
using Vlm2Vec.Extensions.AI.Tests.Support;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Extensions.AI.Tests.SemanticKernel;

/// <summary>
/// The memory plugin inside a real <see cref="Kernel"/>: registered through the kernel builder, invoked by Semantic
/// Kernel's automatic function calling (a scripted chat client stands in for the LLM), and as tools of a
/// Microsoft Agent Framework <see cref="ChatClientAgent"/>.
/// </summary>
public sealed class KernelAndAgentTests : IDisposable
{
    private readonly TempFolder _photos = new("vlm2vec-agent");

    public KernelAndAgentTests()
    {
        File.Copy(TestModel.ImagePath("dalmatian"), _photos.Combine("dog.jpg"));
        File.Copy(TestModel.ImagePath("pizza"), _photos.Combine("pizza.jpg"));
    }

    public void Dispose() => _photos.Dispose();

    private Kernel BuildKernel(IChatClient? chatClient, out HashingEncoder encoder)
    {
        encoder = TestModel.NewEncoder();
        var builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton<VectorStore>(new ReferenceVectorStore());
        builder.AddVlm2VecEmbeddingGenerator(encoder);
        builder.AddVlm2VecMemoryPlugin(configure: o => o.AllowedImageFolders = [_photos.Path]);
        if (chatClient is not null)
        {
            builder.Services.AddChatClient(chatClient).UseKernelFunctionInvocation();
        }

        return builder.Build();
    }

    private static async Task<(MultimodalMemoryReference Note, MultimodalMemoryReference Dog, MultimodalMemoryReference Pizza)> SeedAsync(Kernel kernel)
    {
        var plugin = kernel.Services.GetRequiredKeyedService<MultimodalMemoryPlugin>("memory");
        var note = await plugin.RememberTextAsync("the vet appointment for the spotted dalmatian is on Friday", "calendar/vet.md");
        var dog = await plugin.RememberImageAsync("dog.jpg", "our dalmatian");
        var pizza = await plugin.RememberImageAsync("pizza.jpg", source: "album/pizza-night");
        return (note, dog, pizza);
    }

    [Fact]
    public async Task The_kernel_exposes_the_plugin_functions_with_descriptions_and_invokes_them()
    {
        var kernel = BuildKernel(null, out _);
        var (note, _, _) = await SeedAsync(kernel);

        var functions = kernel.Plugins["memory"].Select(f => f.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["forget", "remember_image", "remember_text", "search_memory", "search_memory_by_image"], functions);
        Assert.All(kernel.Plugins["memory"], f => Assert.False(string.IsNullOrWhiteSpace(f.Description)));
        Assert.Contains(kernel.Plugins["memory"]["remember_image"].Metadata.Parameters, p => p.Name == "source" && !string.IsNullOrEmpty(p.Description));

        var result = await kernel.InvokeAsync("memory", "search_memory", new KernelArguments { ["query"] = "dalmatian vet appointment", ["top"] = 1 });
        var hits = result.GetValue<IReadOnlyList<MultimodalMemoryReference>>()!;
        Assert.Equal(note.Id, Assert.Single(hits).Id);
    }

    [Fact]
    public async Task Automatic_function_calling_runs_the_search_and_the_answer_cites_the_memory()
    {
        var chat = new ScriptedChatClient("search_memory", new Dictionary<string, object?> { ["query"] = "when is the dalmatian vet appointment", ["top"] = 2 });
        var kernel = BuildKernel(chat, out var encoder);
        var (note, _, _) = await SeedAsync(kernel);
        var rowsBefore = encoder.RowsEncoded;
        var settings = new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };

        var response = await kernel.GetRequiredService<IChatClient>().GetResponseAsync(
            [new ChatMessage(ChatRole.User, "When does the dog see the vet?")], settings.ToChatOptions(kernel));

        Assert.Equal($"According to memory, see [memory:{note.Id}] calendar/vet.md.", response.Text);
        Assert.Equal(rowsBefore + 1, encoder.RowsEncoded);
        Assert.Contains(Assert.Single(chat.ToolNamesSeen), n => n.EndsWith("search_memory_by_image", StringComparison.Ordinal));
        Assert.Contains("calendar/vet.md", Assert.Single(chat.ToolResults), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Automatic_function_calling_can_remember_with_metadata()
    {
        var chat = new ScriptedChatClient("remember_text", new Dictionary<string, object?>
        {
            ["text"] = "the plumber comes on Tuesday",
            ["source"] = "chat 2025-01-02",
            ["metadata"] = new Dictionary<string, string> { ["topic"] = "house" },
        });
        var kernel = BuildKernel(chat, out _);
        var settings = new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };

        var response = await kernel.GetRequiredService<IChatClient>().GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Remember that the plumber comes on Tuesday.")], settings.ToChatOptions(kernel));

        var hits = await kernel.Services.GetRequiredKeyedService<MultimodalMemoryPlugin>("memory").SearchAsync("plumber Tuesday", top: 1);
        var stored = Assert.Single(hits);
        Assert.Equal("chat 2025-01-02", stored.Source);
        Assert.Equal("house", stored.Metadata!["topic"]);
        Assert.Contains(stored.Citation, response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ChatClientAgent_uses_the_plugin_as_tools_to_search_by_image()
    {
        var kernel = BuildKernel(null, out _);
        var (_, _, pizza) = await SeedAsync(kernel);
        var chat = new ScriptedChatClient("search_memory_by_image", new Dictionary<string, object?> { ["image"] = "pizza.jpg", ["top"] = 1 });
        var tools = kernel.Plugins["memory"].AsAIFunctions(kernel).Cast<AITool>().ToList();
        var agent = new ChatClientAgent(chat, instructions: "Answer from memory and cite it.", name: "librarian", tools: tools);

        var response = await agent.RunAsync("Have I had this pizza before? (pizza.jpg)");

        Assert.Equal($"According to memory, see [memory:{pizza.Id}] album/pizza-night.", response.Text);
        Assert.Equal(5, Assert.Single(chat.ToolNamesSeen).Count);
    }

    [Fact]
    public async Task Service_collection_registration_with_a_service_id_builds_the_plugin_from_keyed_services()
    {
        var services = new ServiceCollection();
        services.AddKeyedSingleton<VectorStore>("vision", new ReferenceVectorStore());
        services.AddKeyedVlm2VecEmbeddingGenerator("vision", TestModel.NewEncoder("keyed-model"));
        services.AddVlm2VecMemoryPlugin("photos", o => o.CollectionName = "photo_memory", serviceId: "vision");
        services.AddKernel();
        await using var provider = services.BuildServiceProvider();
        var kernel = provider.GetRequiredService<Kernel>();

        var plugin = provider.GetRequiredKeyedService<MultimodalMemoryPlugin>("photos");
        await plugin.RememberTextAsync("hello");
        Assert.Equal("photo_memory", plugin.Collection.Name);
        Assert.Contains("photos", kernel.Plugins.Select(p => p.Name));

        var missing = new ServiceCollection().AddVlm2VecMemoryPlugin(serviceId: "nothing").BuildServiceProvider();
        var error = Assert.Throws<InvalidOperationException>(() => missing.GetRequiredKeyedService<MultimodalMemoryPlugin>("memory"));
        Assert.Contains("No VectorStore is registered with service id 'nothing'", error.Message, StringComparison.Ordinal);
    }
}
