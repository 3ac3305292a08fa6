using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Vlm2Vec;
using Vlm2Vec.Extensions.AI;
using Vlm2Vec.Extensions.AI.SemanticKernel;
using Vlm2Vec.TorchSharp;

namespace MultimodalMemory;

/// <summary>
/// The sample: a kernel with the Vlm2Vec generator, the embedded SQLite vector store and the memory plugin; ingests a
/// folder (images, with an optional caption in <c>NAME.txt</c> beside <c>NAME.jpg</c>, and notes in <c>.txt</c>/<c>.md</c>
/// files) and answers text and image queries by invoking the plugin's functions, printing the citations.
/// </summary>
public sealed class MemoryApp
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"];
    private static readonly string[] NoteExtensions = [".txt", ".md"];

    private readonly MemoryAppOptions _options;
    private readonly TextWriter _output;
    private readonly IEnumerable<IVlm2VecEncoderFactory> _engines;

    /// <summary>Creates the app; <paramref name="engines"/> defaults to the TorchSharp engine.</summary>
    public MemoryApp(MemoryAppOptions options, TextWriter output, IEnumerable<IVlm2VecEncoderFactory>? engines = null)
    {
        _options = options;
        _output = output;
        _engines = engines ?? [new TorchSharpEncoderFactory()];
    }

    /// <summary>Runs ingestion and queries; returns the process exit code.</summary>
    public async Task<int> RunAsync(TextReader input, CancellationToken cancellationToken = default)
    {
        var modelPath = _options.ModelPath ?? Environment.GetEnvironmentVariable(MemoryAppOptions.DefaultModelVariable);
        if (string.IsNullOrEmpty(modelPath))
        {
            await _output.WriteLineAsync(
                $"No model: pass --model <folder> (a VLM2Vec / Qwen2-VL checkpoint folder), or set {MemoryAppOptions.DefaultModelVariable}. " +
                "Once the demo model bundle ships, it is the default.");
            return 2;
        }

        var builder = Kernel.CreateBuilder();
        foreach (var engine in _engines)
        {
            builder.Services.AddVlm2VecEncoderFactory(engine);
        }

        builder.AddVlm2VecEmbeddingGenerator(modelPath, o => o.Device = _options.Device);
        builder.Services.AddVlm2VecVectorStore(_options.DatabasePath);
        var dataFolder = _options.DataFolder is null ? null : Path.GetFullPath(_options.DataFolder);
        builder.AddVlm2VecMemoryPlugin(configure: o =>
        {
            o.CollectionName = "memory";
            if (dataFolder is not null)
            {
                o.AllowedImageFolders.Add(dataFolder);
            }
        });
        var kernel = builder.Build();
        using var disposeServices = kernel.Services as IDisposable;
        var generator = kernel.GetRequiredService<Vlm2VecEmbeddingGenerator>();
        await _output.WriteLineAsync($"Model {generator.ModelId} ({generator.Dimensions} dimensions, {generator.Embedder.Encoder.Info.Engine}); memory {Path.GetFullPath(_options.DatabasePath)}");

        if (dataFolder is not null)
        {
            await IngestAsync(kernel, dataFolder, cancellationToken);
        }

        foreach (var query in _options.Queries)
        {
            await AnswerAsync(kernel, "search_memory", "query", query, cancellationToken);
        }

        foreach (var image in _options.ImageQueries)
        {
            await AnswerAsync(kernel, "search_memory_by_image", "image", image, cancellationToken);
        }

        if (_options.Interactive)
        {
            await _output.WriteLineAsync("Type a question, or 'image: PATH' to search by image; an empty line quits.");
            while (await input.ReadLineAsync(cancellationToken) is { Length: > 0 } line)
            {
                if (line.StartsWith("image:", StringComparison.OrdinalIgnoreCase))
                {
                    await AnswerAsync(kernel, "search_memory_by_image", "image", line["image:".Length..].Trim(), cancellationToken);
                }
                else
                {
                    await AnswerAsync(kernel, "search_memory", "query", line, cancellationToken);
                }
            }
        }

        return 0;
    }

    private async Task IngestAsync(Kernel kernel, string folder, CancellationToken cancellationToken)
    {
        var plugin = kernel.Services.GetRequiredKeyedService<MultimodalMemoryPlugin>("memory");
        await plugin.Collection.EnsureCollectionExistsAsync(cancellationToken);
        int added = 0, skipped = 0;
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var extension = Path.GetExtension(path).ToLowerInvariant();
            var isImage = ImageExtensions.Contains(extension);
            if (!isImage && (!NoteExtensions.Contains(extension) || IsCaption(path)))
            {
                continue;
            }

            if (await plugin.Collection.GetAsync(r => r.Source == path, 1, cancellationToken: cancellationToken).AnyAsync(cancellationToken))
            {
                skipped++;
                continue;
            }

            MultimodalMemoryReference stored;
            if (isImage)
            {
                var caption = Path.ChangeExtension(path, ".txt");
                stored = await plugin.RememberImageAsync(path, File.Exists(caption) ? (await File.ReadAllTextAsync(caption, cancellationToken)).Trim() : null, cancellationToken: cancellationToken);
            }
            else
            {
                stored = await plugin.RememberTextAsync((await File.ReadAllTextAsync(path, cancellationToken)).Trim(), path, cancellationToken: cancellationToken);
            }

            added++;
            await _output.WriteLineAsync($"  + {stored.Kind,-5} {Path.GetRelativePath(folder, path)}");
        }

        await _output.WriteLineAsync($"Ingested {added} new item(s) from {folder} ({skipped} already in memory).");
    }

    private static bool IsCaption(string path) =>
        Path.GetExtension(path).Equals(".txt", StringComparison.OrdinalIgnoreCase)
        && ImageExtensions.Any(e => File.Exists(Path.ChangeExtension(path, e)));

    private async Task AnswerAsync(Kernel kernel, string function, string parameter, string value, CancellationToken cancellationToken)
    {
        await _output.WriteLineAsync($"\n{(parameter == "image" ? "Image" : "Question")}: {value}");
        try
        {
            var result = await kernel.InvokeAsync("memory", function, new KernelArguments { [parameter] = value, ["top"] = _options.Top }, cancellationToken);
            var hits = result.GetValue<IReadOnlyList<MultimodalMemoryReference>>() ?? [];
            if (hits.Count == 0)
            {
                await _output.WriteLineAsync("  (nothing in memory)");
            }

            foreach (var hit in hits)
            {
                var text = hit.Text is null ? string.Empty : $" \"{(hit.Text.Length > 70 ? hit.Text[..70] + "…" : hit.Text)}\"";
                await _output.WriteLineAsync($"  {hit.Score,6:0.000} {hit.Kind,-5} {hit.Citation}{text}");
            }
        }
        catch (KernelException ex)
        {
            await _output.WriteLineAsync($"  error: {ex.InnerException?.Message ?? ex.Message}");
        }
        catch (ArgumentException ex)
        {
            await _output.WriteLineAsync($"  error: {ex.Message}");
        }
    }
}
