using System.ComponentModel;
using System.Globalization;
using System.Linq.Expressions;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.SemanticKernel;
using TextContent = Microsoft.Extensions.AI.TextContent;

namespace Vlm2Vec.Extensions.AI.SemanticKernel;

/// <summary>
/// A Semantic Kernel plugin (also usable as Microsoft.Extensions.AI tools) that gives an agent a multimodal memory:
/// remember notes and images with a source reference and metadata, search by text or by image, forget. Results carry
/// citations the agent can quote. Works over any VectorData collection declared with
/// <see cref="MultimodalMemoryRecord.CreateDefinition"/>; stored items are embedded as targets, queries as queries.
/// </summary>
/// <remarks>
/// Image arguments are data URIs (<c>data:image/png;base64,…</c>), http(s) URLs (downloaded only if the generator
/// allows remote images) or file paths inside <see cref="MultimodalMemoryOptions.AllowedImageFolders"/>; anything else
/// is refused with a message the agent can act on.
/// </remarks>
public sealed class MultimodalMemoryPlugin
{
    private readonly VectorStoreCollection<string, MultimodalMemoryRecord> _collection;
    private readonly MultimodalMemoryOptions _options;
    private readonly string[] _folders;
    private readonly Lazy<Task> _ensureCollection;

    /// <summary>Creates the plugin over a collection (created on first use if missing).</summary>
    public MultimodalMemoryPlugin(VectorStoreCollection<string, MultimodalMemoryRecord> collection, MultimodalMemoryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(collection);
        _collection = collection;
        _options = options ?? new MultimodalMemoryOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.DefaultTop, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxTop, 1, nameof(options));
        _folders = [.. _options.AllowedImageFolders.Select(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f)))];
        _ensureCollection = new Lazy<Task>(() => _collection.EnsureCollectionExistsAsync());
    }

    /// <summary>The collection the memories are stored in.</summary>
    public VectorStoreCollection<string, MultimodalMemoryRecord> Collection => _collection;

    /// <summary>Stores a note.</summary>
    [KernelFunction("remember_text")]
    [Description("Stores a text note in long-term multimodal memory so it can be found later by text or image search. Returns the stored memory with its id and citation.")]
    public async Task<MultimodalMemoryReference> RememberTextAsync(
        [Description("The note's text.")] string text,
        [Description("Where the note comes from (file path, URL or title), quoted when the memory is cited.")] string? source = null,
        [Description("Optional metadata as string keys and values (for example author, date, tags).")] Dictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("The note's text is empty: give the text to remember.", nameof(text));
        }

        var record = new MultimodalMemoryRecord
        {
            Id = NewId(),
            Kind = MultimodalMemoryRecord.TextKind,
            Text = text,
            Source = source,
            MetadataJson = metadata is { Count: > 0 } ? JsonSerializer.Serialize(metadata) : null,
            CreatedAt = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            Content = new Vlm2VecContent([new TextContent(text)]) { Role = EmbeddingRole.Target },
        };
        await UpsertAsync(record, cancellationToken).ConfigureAwait(false);
        return Reference(record, score: null);
    }

    /// <summary>Stores an image, with an optional description that is embedded with it.</summary>
    [KernelFunction("remember_image")]
    [Description("Stores an image in long-term multimodal memory so it can be found later by text or image search. Returns the stored memory with its id and citation.")]
    public async Task<MultimodalMemoryReference> RememberImageAsync(
        [Description("The image: a file path, or a data URI such as data:image/png;base64,....")] string image,
        [Description("Optional description or caption of the image; it is embedded together with the image.")] string? description = null,
        [Description("Where the image comes from (file path, URL or title), quoted when the memory is cited; defaults to the image path.")] string? source = null,
        [Description("Optional metadata as string keys and values (for example author, date, tags).")] Dictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        var (content, path) = ReadImage(image);
        var parts = new List<AIContent> { content };
        if (!string.IsNullOrWhiteSpace(description))
        {
            parts.Add(new TextContent(description));
        }

        var record = new MultimodalMemoryRecord
        {
            Id = NewId(),
            Kind = MultimodalMemoryRecord.ImageKind,
            Text = string.IsNullOrWhiteSpace(description) ? null : description,
            Source = source ?? path,
            MediaType = content is DataContent data ? data.MediaType : ((UriContent)content).MediaType,
            MetadataJson = metadata is { Count: > 0 } ? JsonSerializer.Serialize(metadata) : null,
            CreatedAt = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            Content = new Vlm2VecContent(parts) { Role = EmbeddingRole.Target },
        };
        await UpsertAsync(record, cancellationToken).ConfigureAwait(false);
        return Reference(record, score: null);
    }

    /// <summary>Searches memory with a text query.</summary>
    [KernelFunction("search_memory")]
    [Description("Searches long-term multimodal memory (notes and images) with a text query. Returns the best matches, best first, each with its source and a citation to quote.")]
    public Task<IReadOnlyList<MultimodalMemoryReference>> SearchAsync(
        [Description("What to look for, in words.")] string query,
        [Description("How many results to return.")] int? top = null,
        [Description("Restrict to 'text' notes or 'image' memories; omit for both.")] string? kind = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            throw new ArgumentException("The query is empty: say what to look for.", nameof(query));
        }

        return SearchCoreAsync(new Vlm2VecContent([new TextContent(query)]) { Role = EmbeddingRole.Query }, top, kind, cancellationToken);
    }

    /// <summary>Searches memory with an image.</summary>
    [KernelFunction("search_memory_by_image")]
    [Description("Searches long-term multimodal memory (notes and images) with an image: finds similar images and related notes. Returns the best matches, best first, each with its source and a citation to quote.")]
    public Task<IReadOnlyList<MultimodalMemoryReference>> SearchByImageAsync(
        [Description("The query image: a file path, or a data URI such as data:image/png;base64,....")] string image,
        [Description("How many results to return.")] int? top = null,
        [Description("Restrict to 'text' notes or 'image' memories; omit for both.")] string? kind = null,
        CancellationToken cancellationToken = default)
    {
        var (content, _) = ReadImage(image);
        return SearchCoreAsync(new Vlm2VecContent([content]) { Role = EmbeddingRole.Query }, top, kind, cancellationToken);
    }

    /// <summary>Deletes a memory.</summary>
    [KernelFunction("forget")]
    [Description("Deletes a memory by its id. Returns true when it existed.")]
    public async Task<bool> ForgetAsync(
        [Description("The memory's id, as returned by remember or search.")] string id,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        await _ensureCollection.Value.ConfigureAwait(false);
        var existing = await _collection.GetAsync(id, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return false;
        }

        await _collection.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<IReadOnlyList<MultimodalMemoryReference>> SearchCoreAsync(Vlm2VecContent query, int? top, string? kind, CancellationToken cancellationToken)
    {
        var count = Math.Clamp(top ?? _options.DefaultTop, 1, _options.MaxTop);
        var options = new VectorSearchOptions<MultimodalMemoryRecord>();
        if (!string.IsNullOrWhiteSpace(kind))
        {
            var wanted = kind.Trim().ToLowerInvariant() switch
            {
                MultimodalMemoryRecord.TextKind or "note" or "notes" => MultimodalMemoryRecord.TextKind,
                MultimodalMemoryRecord.ImageKind or "images" => MultimodalMemoryRecord.ImageKind,
                _ => throw new ArgumentException($"kind must be 'text' or 'image' (or omitted for both), not '{kind}'.", nameof(kind)),
            };
            options.Filter = KindIs(wanted);
        }

        await _ensureCollection.Value.ConfigureAwait(false);
        var hits = new List<MultimodalMemoryReference>(count);
        await foreach (var hit in _collection.SearchAsync<AIContent>(query, count, options, cancellationToken).ConfigureAwait(false))
        {
            if (_options.MinScore is double min && hit.Score is double score && score < min)
            {
                continue;
            }

            hits.Add(Reference(hit.Record, hit.Score));
        }

        return hits;
    }

    private static Expression<Func<MultimodalMemoryRecord, bool>> KindIs(string kind) => record => record.Kind == kind;

    private async Task UpsertAsync(MultimodalMemoryRecord record, CancellationToken cancellationToken)
    {
        await _ensureCollection.Value.ConfigureAwait(false);
        await _collection.UpsertAsync(record, cancellationToken).ConfigureAwait(false);
    }

    private (AIContent Content, string? Path) ReadImage(string image)
    {
        if (string.IsNullOrWhiteSpace(image))
        {
            throw new ArgumentException("The image is empty: give a file path or a data URI.", nameof(image));
        }

        image = image.Trim();
        if (image.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            DataContent data;
            try
            {
                data = new DataContent(image);
            }
            catch (FormatException ex)
            {
                throw new ArgumentException($"The image data URI is malformed ({ex.Message}); use data:image/png;base64,....", nameof(image), ex);
            }

            return data.HasTopLevelMediaType("image")
                ? (data, null)
                : throw new ArgumentException($"The data URI has media type '{data.MediaType}', not an image.", nameof(image));
        }

        if (Uri.TryCreate(image, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return (new UriContent(uri, MediaTypeOf(uri.AbsolutePath, image)), image);
        }

        if (_folders.Length == 0)
        {
            throw new ArgumentException(
                "Image files cannot be read: no folder is allowed (MultimodalMemoryOptions.AllowedImageFolders). Pass the image as a data URI instead.", nameof(image));
        }

        var path = uri is { IsFile: true } ? uri.LocalPath : image;
        var full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(_folders[0], path));
        if (!_folders.Any(folder => IsInside(full, folder)))
        {
            throw new ArgumentException($"'{image}' is outside the folders images may be read from ({string.Join(", ", _folders)}).", nameof(image));
        }

        if (!File.Exists(full))
        {
            throw new ArgumentException($"There is no image file '{full}'.", nameof(image));
        }

        return (new UriContent(new Uri(full), MediaTypeOf(full, image)), full);
    }

    private static bool IsInside(string path, string folder) =>
        path.StartsWith(folder + Path.DirectorySeparatorChar, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    private static string MediaTypeOf(string path, string original) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".jpg" or ".jpeg" => "image/jpeg",
        ".png" => "image/png",
        ".gif" => "image/gif",
        ".webp" => "image/webp",
        ".bmp" => "image/bmp",
        ".tif" or ".tiff" => "image/tiff",
        var other => throw new ArgumentException(
            $"'{original}' does not look like an image (extension '{other}'); supported: .jpg, .jpeg, .png, .gif, .webp, .bmp, .tif, .tiff.", nameof(original)),
    };

    private static MultimodalMemoryReference Reference(MultimodalMemoryRecord record, double? score) => new()
    {
        Id = record.Id,
        Kind = record.Kind,
        Text = record.Text,
        Source = record.Source,
        Metadata = string.IsNullOrEmpty(record.MetadataJson) ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(record.MetadataJson),
        Score = score,
        Citation = record.Source is null ? $"[memory:{record.Id}]" : $"[memory:{record.Id}] {record.Source}",
    };

    private static string NewId() => Guid.NewGuid().ToString("N");
}
