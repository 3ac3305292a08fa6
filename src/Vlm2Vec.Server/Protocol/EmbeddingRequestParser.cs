using System.Globalization;
using System.Text.Json;

namespace Vlm2Vec.Server.Protocol;

/// <summary>
/// Reads a <c>POST /v1/embeddings</c> body: OpenAI's fields (<c>model</c>, <c>input</c> as a string or an array of
/// strings, <c>encoding_format</c>, <c>dimensions</c>, <c>user</c>) and the documented extension (image items, data-URL
/// strings, <c>instruction</c>, <c>role</c>). Every refusal names the field at fault; size limits answer 413.
/// </summary>
/// <remarks>Token-id inputs (what LangChain sends by default) are refused: they are ids of the client's tokenizer, not ours.</remarks>
internal static class EmbeddingRequestParser
{
    private const string TokenIdsRefusal =
        "Token-id input is not supported: the ids come from the client's tokenizer (for example tiktoken), not this model's. " +
        "Send the text as strings (in LangChain: OpenAIEmbeddings(check_embedding_ctx_length=False)).";

    public static EmbeddingRequest Parse(JsonElement root, Vlm2VecServerLimits limits)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.BadRequest($"The request body must be a JSON object, not {Describe(root.ValueKind)}.");
        }

        string? model = null;
        JsonElement? input = null;
        var format = EmbeddingEncodingFormat.Float;
        int? dimensions = null;
        JsonElement? instruction = null;
        EmbeddingRole? role = null;
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name)
            {
                case "model":
                    model = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : throw WrongType("model", "a string", property.Value);
                    break;
                case "input":
                    input = property.Value;
                    break;
                case "encoding_format":
                    format = ParseFormat(property.Value);
                    break;
                case "dimensions":
                    dimensions = ParseDimensions(property.Value);
                    break;
                case "instruction":
                    instruction = property.Value;
                    break;
                case "role":
                    role = ParseRole(property.Value, "role");
                    break;
                default:
                    // OpenAI's `user` and any field a newer client adds are accepted and ignored.
                    break;
            }
        }

        if (string.IsNullOrEmpty(model))
        {
            throw ApiException.BadRequest("'model' is required: the name of the model (GET /v1/models lists it).", "model");
        }

        if (input is null || input.Value.ValueKind == JsonValueKind.Null)
        {
            throw ApiException.BadRequest("'input' is required: a string, an array of strings, or (extension) image items.", "input");
        }

        var items = ParseInput(input.Value, limits);
        string? shared = null;
        IReadOnlyList<string?>? perItem = null;
        if (instruction is { } given)
        {
            switch (given.ValueKind)
            {
                case JsonValueKind.Null:
                    break;
                case JsonValueKind.String:
                    shared = given.GetString();
                    break;
                case JsonValueKind.Array:
                    perItem = ParseInstructionList(given, items.Count);
                    break;
                default:
                    throw WrongType("instruction", "a string or an array of strings (one per input)", given);
            }
        }

        return new EmbeddingRequest
        {
            Model = model,
            Items = items,
            Format = format,
            Dimensions = dimensions,
            SharedInstruction = shared,
            ItemInstructions = perItem,
            Role = role,
        };
    }

    private static List<EmbeddingRequestItem> ParseInput(JsonElement input, Vlm2VecServerLimits limits)
    {
        var items = new List<EmbeddingRequestItem>();
        var images = 0;
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                items.Add(ParseStringItem(input.GetString()!, "input", limits, ref images));
                break;
            case JsonValueKind.Object:
                items.Add(ParseObjectItem(input, "input", limits, ref images));
                break;
            case JsonValueKind.Array:
                var count = input.GetArrayLength();
                if (count == 0)
                {
                    throw ApiException.BadRequest("'input' must not be an empty array.", "input");
                }

                if (count > limits.MaxItemsPerRequest)
                {
                    throw ApiException.TooLarge(
                        $"'input' has {count:N0} items; the limit is {limits.MaxItemsPerRequest:N0} per request. Split it into several requests.",
                        "too_many_inputs",
                        "input");
                }

                var index = 0;
                foreach (var element in input.EnumerateArray())
                {
                    var param = string.Create(CultureInfo.InvariantCulture, $"input[{index}]");
                    items.Add(element.ValueKind switch
                    {
                        JsonValueKind.String => ParseStringItem(element.GetString()!, param, limits, ref images),
                        JsonValueKind.Object => ParseObjectItem(element, param, limits, ref images),
                        JsonValueKind.Number or JsonValueKind.Array => throw ApiException.BadRequest(TokenIdsRefusal, "input", "unsupported_input"),
                        _ => throw WrongType(param, "a string or an image item object", element),
                    });
                    index++;
                }

                break;
            default:
                throw WrongType("input", "a string, an array of strings, or an image item object", input);
        }

        return items;
    }

    private static EmbeddingRequestItem ParseStringItem(string value, string param, Vlm2VecServerLimits limits, ref int images)
    {
        if (ImageData.IsDataUrl(value))
        {
            CountImage(ref images, limits, param);
            return new EmbeddingRequestItem { Image = ImageData.Decode(value, param, limits.MaxImageBytes) };
        }

        if (value.Length == 0)
        {
            throw ApiException.BadRequest($"'{param}' is an empty string; every input needs text or an image.", param);
        }

        CheckTextLength(value, param, limits);
        return new EmbeddingRequestItem { Text = value };
    }

    private static EmbeddingRequestItem ParseObjectItem(JsonElement item, string param, Vlm2VecServerLimits limits, ref int images)
    {
        string? text = null;
        string? instruction = null;
        string? image = null;
        string? imageParam = null;
        EmbeddingRole? role = null;
        foreach (var property in item.EnumerateObject())
        {
            var field = $"{param}.{property.Name}";
            var value = property.Value;
            switch (property.Name)
            {
                case "text":
                    text = value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString(),
                        JsonValueKind.Null => null,
                        _ => throw WrongType(field, "a string", value),
                    };
                    break;
                case "instruction":
                    instruction = value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString(),
                        JsonValueKind.Null => null,
                        _ => throw WrongType(field, "a string", value),
                    };
                    break;
                case "role":
                    role = ParseRole(value, field);
                    break;
                case "image":
                    image = value.ValueKind == JsonValueKind.String ? value.GetString() : throw WrongType(field, "a data URL or base64 string", value);
                    imageParam = field;
                    break;
                case "image_url":
                    // Chat-completions style: "image_url": "data:..." or {"url": "data:..."}.
                    image = value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString(),
                        JsonValueKind.Object when value.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String => url.GetString(),
                        _ => throw WrongType(field, "a data URL string or {\"url\": \"data:...\"}", value),
                    };
                    imageParam = field;
                    break;
                case "type":
                    // "text", "image", "image_url", "multimodal": informative only; the fields present decide.
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        throw WrongType(field, "a string", value);
                    }

                    break;
                default:
                    throw ApiException.BadRequest(
                        $"'{field}' is not a field of an input item; allowed: text, image, image_url, instruction, role, type.", field);
            }
        }

        byte[]? bytes = null;
        if (image is not null)
        {
            CountImage(ref images, limits, param);
            bytes = ImageData.Decode(image, imageParam!, limits.MaxImageBytes);
        }

        if (bytes is null && string.IsNullOrEmpty(text))
        {
            throw ApiException.BadRequest($"'{param}' has neither text nor an image; every input needs at least one.", param);
        }

        CheckTextLength(text, param, limits, instruction);
        return new EmbeddingRequestItem { Text = text, Image = bytes, Instruction = instruction, Role = role };
    }

    internal static void CheckTextLength(string? text, string param, Vlm2VecServerLimits limits, string? instruction = null)
    {
        var length = (long)(text?.Length ?? 0) + (instruction?.Length ?? 0);
        if (length > limits.MaxTextLength)
        {
            throw ApiException.TooLarge(
                $"'{param}' has {length:N0} characters of text and instruction; the limit is {limits.MaxTextLength:N0}.", "text_too_long", param);
        }
    }

    private static void CountImage(ref int images, Vlm2VecServerLimits limits, string param)
    {
        if (++images > limits.MaxImagesPerRequest)
        {
            throw ApiException.TooLarge(
                $"The request has more than {limits.MaxImagesPerRequest:N0} images (at '{param}'); split it into several requests.", "too_many_images", param);
        }
    }

    private static List<string?> ParseInstructionList(JsonElement list, int itemCount)
    {
        if (list.GetArrayLength() != itemCount)
        {
            throw ApiException.BadRequest(
                $"'instruction' has {list.GetArrayLength()} entries but 'input' has {itemCount}; give one per input, or a single string for all.", "instruction");
        }

        var result = new List<string?>(itemCount);
        var index = 0;
        foreach (var entry in list.EnumerateArray())
        {
            result.Add(entry.ValueKind switch
            {
                JsonValueKind.String => entry.GetString(),
                JsonValueKind.Null => null,
                _ => throw WrongType(string.Create(CultureInfo.InvariantCulture, $"instruction[{index}]"), "a string or null", entry),
            });
            index++;
        }

        return result;
    }

    private static EmbeddingEncodingFormat ParseFormat(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => EmbeddingEncodingFormat.Float,
        JsonValueKind.String when value.ValueEquals("float") => EmbeddingEncodingFormat.Float,
        JsonValueKind.String when value.ValueEquals("base64") => EmbeddingEncodingFormat.Base64,
        JsonValueKind.String => throw ApiException.BadRequest(
            $"'encoding_format' is '{value.GetString()}'; allowed: 'float' or 'base64'.", "encoding_format"),
        _ => throw WrongType("encoding_format", "'float' or 'base64'", value),
    };

    private static int? ParseDimensions(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var dimensions) || dimensions < 1)
        {
            throw ApiException.BadRequest($"'dimensions' must be a positive integer, not {value.GetRawText()}.", "dimensions");
        }

        return dimensions;
    }

    private static EmbeddingRole? ParseRole(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String when value.ValueEquals("query") => EmbeddingRole.Query,
        JsonValueKind.String when value.ValueEquals("target") => EmbeddingRole.Target,
        _ => throw ApiException.BadRequest($"'{param}' must be \"query\" or \"target\", not {value.GetRawText()}.", param),
    };

    private static ApiException WrongType(string param, string expected, JsonElement value) =>
        ApiException.BadRequest($"'{param}' must be {expected}, not {Describe(value.ValueKind)}.", param);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
