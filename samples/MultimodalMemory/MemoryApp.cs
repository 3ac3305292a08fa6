using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Vlm2Vec;
using Vlm2Vec.Extensions.AI;
using Vlm2Vec.Extensions.AI.SemanticKernel;
using Vlm2Vec.OnnxRuntime;
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

    /// <summary>
    /// Creates the app; <paramref name="engines"/> defaults to the ONNX Runtime engine (model bundles with a
    /// <c>vlm2vec.json</c>, such as the shipped demo model) and the TorchSharp engine (Hugging Face checkpoint folders).
    /// </summary>
    public MemoryApp(MemoryAppOptions options, TextWriter output, IEnumerable<IVlm2VecEncoderFactory>? engines = null)
    {
        _options = options;
        _output = output;
        _engines = engines ?? [new OnnxRuntimeEncoderFactory(), new TorchSharpEncoderFactory()];
    }

    /// <summary>The shipped demo model beside the app (<see cref="MemoryAppOptions.ShippedModelFolderName"/>).</summary>
    public static string ShippedModelFolder => Path.Combine(AppContext.BaseDirectory, MemoryAppOptions.ShippedModelFolderName);

    /// <summary>The shipped sample images beside the app (<see cref="MemoryAppOptions.ShippedDataFolderName"/>).</summary>
    public static string ShippedDataFolder => Path.Combine(AppContext.BaseDirectory, MemoryAppOptions.ShippedDataFolderName);

    /// <summary>Runs ingestion and queries; returns the process exit code.</summary>
    public async Task<int> RunAsync(TextReader input, CancellationToken cancellationToken = default)
    {
        var modelPath = _options.ModelPath ?? Environment.GetEnvironmentVariable(MemoryAppOptions.DefaultModelVariable);
        var shippedModel = false;
        if (string.IsNullOrEmpty(modelPath))
        {
            if (!File.Exists(Path.Combine(ShippedModelFolder, "vlm2vec.json")))
            {
                await _output.WriteLineAsync(
                    $"No model: the shipped demo model is not in {ShippedModelFolder}. Pass --model <folder> (a model bundle, or a VLM2Vec / Qwen2-VL checkpoint folder), " +
                    $"or set {MemoryAppOptions.DefaultModelVariable}.");
                return 2;
            }

            modelPath = ShippedModelFolder;
            shippedModel = true;
        }

        var demoPrompts = _options.DemoPrompts ?? shippedModel;
        var builder = Kernel.CreateBuilder();
        foreach (var engine in _engines)
        {
            builder.Services.AddVlm2VecEncoderFactory(engine);
        }

        builder.AddVlm2VecEmbeddingGenerator(modelPath, o =>
        {
            o.Device = _options.Device;
            if (demoPrompts)
            {
                DemoPrompts.Apply(o);
            }
        });
        builder.Services.AddVlm2VecVectorStore(_options.DatabasePath);
        var dataFolder = _options.DataFolder is not null
            ? Path.GetFullPath(_options.DataFolder)
            : Directory.Exists(ShippedDataFolder) ? ShippedDataFolder : null;
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
        if (shippedModel)
        {
            await _output.WriteLineAsync(
                $"(the shipped demo model, {modelPath}: tiny, trained on Fashion-MNIST only, it knows ten kinds of clothing; pass --model for a real VLM2Vec bundle)");
        }

        if (demoPrompts)
        {
            await _output.WriteLineAsync(
                $"Demo prompts: text queries \"{DemoPrompts.TextQueryInstruction} <text>\", images and image queries \"{DemoPrompts.ImageInstruction}\".");
        }

        if (dataFolder is not null)
        {
            await IngestAsync(kernel, dataFolder, cancellationToken);
        }

        IReadOnlyList<string> queries = _options.Queries;
        IReadOnlyList<string> imageQueries = _options.ImageQueries;
        if (demoPrompts && queries.Count == 0 && imageQueries.Count == 0 && !_options.Interactive)
        {
            // Nothing asked: a few questions the demo model can answer (captions in its trained phrasing, one sample image).
            queries = DemoPrompts.DefaultTextQueries;
            imageQueries = dataFolder is not null && File.Exists(Path.Combine(dataFolder, DemoPrompts.DefaultImageQuery)) ? [DemoPrompts.DefaultImageQuery] : [];
        }

        foreach (var query in queries)
        {
            await AnswerAsync(kernel, "search_memory", "query", query, cancellationToken);
        }

        foreach (var image in imageQueries)
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
