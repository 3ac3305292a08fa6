using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// Turns the <see cref="AIContent"/> items of one call into <see cref="MultimodalInput"/>s: reads their parts, resolves
/// instruction, side and MMEB preset (item over call over defaults), reads file images and downloads remote ones. A bad
/// item gets an <see cref="InvalidInputException"/> or <see cref="ImageDecodeException"/> and does not affect the others.
/// </summary>
internal sealed class ContentTranslator
{
    private const string Supported =
        "supported are TextContent, DataContent with an image/* media type, UriContent of an image (file:, or http(s): when AllowRemoteImages is set) " +
        "and Vlm2VecContent made of those";

    private readonly Vlm2VecEmbeddingGeneratorOptions _options;
    private readonly RemoteImageDownloader _downloader;

    public ContentTranslator(Vlm2VecEmbeddingGeneratorOptions options, long maxImageBytes)
    {
        _options = options;
        _downloader = new RemoteImageDownloader(options.HttpClient, maxImageBytes);
    }

    public async Task<ItemTranslation[]> TranslateAsync(IReadOnlyList<AIContent> items, EmbeddingGenerationOptions? callOptions, CancellationToken cancellationToken)
    {
        var results = new ItemTranslation[items.Count];
        var drafts = new Draft?[items.Count];
        var downloads = new List<(int Item, int Image, Uri Uri)>();
        for (var i = 0; i < items.Count; i++)
        {
            try
            {
                var draft = Read(items[i], callOptions);
                for (var k = 0; k < draft.Images.Count; k++)
                {
                    if (draft.Images[k].Remote is { } uri)
                    {
                        downloads.Add((i, k, uri));
                    }
                }

                drafts[i] = draft;
            }
            catch (Exception ex) when (ex is Vlm2VecException or ArgumentException or UriFormatException)
            {
                results[i] = new ItemTranslation(null, ex);
            }
        }

        if (downloads.Count > 0)
        {
            await DownloadAsync(downloads, drafts, results, cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (results[i].Error is null && drafts[i] is { } draft)
            {
                try
                {
                    results[i] = new ItemTranslation(Build(draft), null);
                }
                catch (Exception ex) when (ex is Vlm2VecException or ArgumentException)
                {
                    results[i] = new ItemTranslation(null, ex);
                }
            }
        }

        return results;
    }

    private async Task DownloadAsync(List<(int Item, int Image, Uri Uri)> downloads, Draft?[] drafts, ItemTranslation[] results, CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(downloads, parallel, async (download, token) =>
        {
            try
            {
                var bytes = await _downloader.DownloadAsync(download.Uri, token).ConfigureAwait(false);
                drafts[download.Item]!.Images[download.Image] = new DraftImage(ImageInput.FromBytes(bytes, download.Uri.ToString()), null);
            }
            catch (ImageDecodeException ex)
            {
                lock (results)
                {
                    results[download.Item] = new ItemTranslation(null, ex);
                }
            }
        }).ConfigureAwait(false);
    }

    private Draft Read(AIContent? item, EmbeddingGenerationOptions? callOptions)
    {
        switch (item)
        {
            case null:
                throw new InvalidInputException("the item is null.");
            case Vlm2VecContent compound:
                {
                    var draft = new Draft
                    {
                        Instruction = compound.Instruction ?? ReadString(compound.AdditionalProperties, callOptions, Vlm2VecPropertyNames.Instruction),
                        Role = compound.Role ?? ReadRole(compound.AdditionalProperties, callOptions),
                        Preset = compound.Preset ?? ReadString(compound.AdditionalProperties, callOptions, Vlm2VecPropertyNames.Preset),
                    };
                    if (compound.Parts is null || compound.Parts.Count == 0)
                    {
                        throw new InvalidInputException("the Vlm2VecContent has no parts: add text and/or image parts.");
                    }

                    for (var p = 0; p < compound.Parts.Count; p++)
                    {
                        AddPart(draft, compound.Parts[p], $"part {p} of the Vlm2VecContent");
                    }

                    return draft;
                }

            default:
                {
                    var draft = new Draft
                    {
                        Instruction = ReadString(item.AdditionalProperties, callOptions, Vlm2VecPropertyNames.Instruction),
                        Role = ReadRole(item.AdditionalProperties, callOptions),
                        Preset = ReadString(item.AdditionalProperties, callOptions, Vlm2VecPropertyNames.Preset),
                    };
                    AddPart(draft, item, "the item");
                    return draft;
                }
        }
    }

    private void AddPart(Draft draft, AIContent? part, string where)
    {
        switch (part)
        {
            case TextContent text:
                draft.Texts.Add(text.Text ?? string.Empty);
                break;
            case DataContent data:
                if (!data.HasTopLevelMediaType("image"))
                {
                    throw new InvalidInputException(
                        $"{Capitalise(where)} is a DataContent of media type '{data.MediaType}', which cannot be embedded: only images (image/*) are; {Supported}.");
                }

                draft.Images.Add(new DraftImage(ImageInput.FromBytes(data.Data, data.Name ?? $"DataContent {data.MediaType}"), null));
                break;
            case UriContent uri:
                draft.Images.Add(ReadUri(uri, where));
                break;
            case null:
                throw new InvalidInputException($"{Capitalise(where)} is null.");
            default:
                throw new InvalidInputException($"{Capitalise(where)} is content of type '{part.GetType().Name}', which cannot be embedded; {Supported}.");
        }
    }

    private DraftImage ReadUri(UriContent content, string where)
    {
        var uri = content.Uri;
        if (!content.HasTopLevelMediaType("image"))
        {
            throw new InvalidInputException(
                $"{Capitalise(where)} is a UriContent of media type '{content.MediaType}' ({uri}), which cannot be embedded: only images (image/*) are.");
        }

        if (!uri.IsAbsoluteUri)
        {
            throw new InvalidInputException($"{Capitalise(where)} has the relative URI '{uri}'; use an absolute file: URI or a DataContent.");
        }

        if (uri.IsFile)
        {
            if (!_options.AllowFileUris)
            {
                throw new InvalidInputException($"{Capitalise(where)} is the file URI '{uri}', and file URIs are not allowed (AllowFileUris is false).");
            }

            return new DraftImage(ImageInput.FromFile(uri.LocalPath), null);
        }

        if (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        {
            if (!_options.AllowRemoteImages)
            {
                throw new InvalidInputException(
                    $"{Capitalise(where)} is the remote image '{uri}', and remote images are not downloaded unless AllowRemoteImages is set; pass the bytes as a DataContent instead.");
            }

            return new DraftImage(null, uri);
        }

        throw new InvalidInputException($"{Capitalise(where)} has the URI scheme '{uri.Scheme}' ({uri}); only file:, http: and https: image URIs are supported.");
    }

    private MultimodalInput Build(Draft draft)
    {
        var images = new ImageInput[draft.Images.Count];
        for (var i = 0; i < images.Length; i++)
        {
            images[i] = draft.Images[i].Image ?? throw new InvalidOperationException("A remote image was not downloaded.");
        }

        string? text = draft.Texts.Count switch
        {
            0 => null,
            1 => draft.Texts[0],
            _ => string.Join('\n', draft.Texts),
        };
        var role = draft.Role ?? _options.DefaultRole;
        if (draft.Preset is { Length: > 0 } presetName && draft.Instruction is null)
        {
            var preset = MmebCatalog.Find(presetName) ?? throw new InvalidInputException(
                $"'{presetName}' ({Vlm2VecPropertyNames.Preset}) is not an MMEB dataset; known: {string.Join(", ", MmebCatalog.All.Select(d => d.Name))}.");
            if (images.Length > 1)
            {
                throw new InvalidInputException($"MMEB preset '{preset.Name}' takes at most one image; the item has {images.Length}.");
            }

            var image = images.Length == 1 ? images[0] : null;
            return role == EmbeddingRole.Query ? preset.CreateQuery(text, image) : preset.CreateTarget(text, image);
        }

        var instruction = draft.Instruction ?? _options.DefaultInstructions.For(role, images.Length > 0, !string.IsNullOrEmpty(text));
        var input = new MultimodalInput
        {
            Instruction = string.IsNullOrEmpty(instruction) ? null : instruction,
            Text = text,
            Images = images,
            Role = role,
        };
        input.Validate();
        return input;
    }

    private static string? ReadString(AdditionalPropertiesDictionary? item, EmbeddingGenerationOptions? call, string key)
    {
        if (TryGet(item, key, out var value) || TryGet(call?.AdditionalProperties, key, out value))
        {
            return value switch
            {
                null => null,
                string s => s,
                JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
                JsonElement { ValueKind: JsonValueKind.Null } => null,
                _ => throw new InvalidInputException($"'{key}' must be a string, not a {value.GetType().Name}."),
            };
        }

        return null;
    }

    private static EmbeddingRole? ReadRole(AdditionalPropertiesDictionary? item, EmbeddingGenerationOptions? call)
    {
        if (!TryGet(item, Vlm2VecPropertyNames.Role, out var value) && !TryGet(call?.AdditionalProperties, Vlm2VecPropertyNames.Role, out value))
        {
            return null;
        }

        var text = value switch
        {
            null => null,
            EmbeddingRole role => role.ToString(),
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            _ => throw new InvalidInputException($"'{Vlm2VecPropertyNames.Role}' must be 'query' or 'target', not a {value.GetType().Name}."),
        };
        return text switch
        {
            null => null,
            _ when text.Equals("query", StringComparison.OrdinalIgnoreCase) => EmbeddingRole.Query,
            _ when text.Equals("target", StringComparison.OrdinalIgnoreCase) || text.Equals("candidate", StringComparison.OrdinalIgnoreCase) => EmbeddingRole.Target,
            _ => throw new InvalidInputException($"'{Vlm2VecPropertyNames.Role}' must be 'query' or 'target', not '{text}'."),
        };
    }

    private static bool TryGet(AdditionalPropertiesDictionary? properties, string key, out object? value)
    {
        value = null;
        return properties is not null && properties.TryGetValue(key, out value);
    }

    private static string Capitalise(string text) =>
        text.Length == 0 ? text : new StringBuilder(text).Replace(text[0], char.ToUpperInvariant(text[0]), 0, 1).ToString();

    private sealed class Draft
    {
        public string? Instruction { get; init; }

        public EmbeddingRole? Role { get; init; }

        public string? Preset { get; init; }

        public List<string> Texts { get; } = [];

        public List<DraftImage> Images { get; } = [];
    }

    private readonly record struct DraftImage(ImageInput? Image, Uri? Remote);
}
