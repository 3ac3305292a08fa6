using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Vlm2Vec.Extensions.AI.Tests.Support;

/// <summary>
/// Stands in for the LLM in agent tests (never in product code): on the first turn it calls the tool whose name ends
/// with <see cref="ToolSuffix"/> (looked up in the tools it was given, as a model would) with <see cref="Arguments"/>;
/// once it sees the tool's result it answers with the first result's citation, so the answer depends on what the tool
/// really returned.
/// </summary>
internal sealed class ScriptedChatClient(string toolSuffix, IDictionary<string, object?> arguments) : IChatClient
{
    public string ToolSuffix { get; } = toolSuffix;

    public IDictionary<string, object?> Arguments { get; } = arguments;

    public ConcurrentQueue<IReadOnlyList<string>> ToolNamesSeen { get; } = new();

    public ConcurrentQueue<string> ToolResults { get; } = new();

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var history = messages.ToList();
        var result = history.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
        if (result is null)
        {
            var names = options?.Tools?.Select(t => t.Name).ToList() ?? [];
            ToolNamesSeen.Enqueue(names);
            var tool = names.FirstOrDefault(n => n.EndsWith(ToolSuffix, StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"No tool ending with '{ToolSuffix}' was offered (offered: {string.Join(", ", names)}).");
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-1", tool, Arguments)])));
        }

        var json = result.Result switch
        {
            JsonElement element => element.GetRawText(),
            string text => text,
            var other => JsonSerializer.Serialize(other, AIJsonUtilities.DefaultOptions),
        };
        ToolResults.Enqueue(json);
        var answer = TryFirstCitation(json, out var citation)
            ? $"According to memory, see {citation}."
            : $"The memory tool returned nothing useful: {json}";
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answer)));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static bool TryFirstCitation(string json, out string citation)
    {
        citation = string.Empty;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var first = root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0 ? root[0] : root;
            foreach (var property in first.EnumerateObject())
            {
                if (property.Name.Equals("citation", StringComparison.OrdinalIgnoreCase))
                {
                    citation = property.Value.GetString() ?? string.Empty;
                    return citation.Length > 0;
                }
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }
}
