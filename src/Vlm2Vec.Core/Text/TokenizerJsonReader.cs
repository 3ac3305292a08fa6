using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Reads Hugging Face tokenizer files: <c>tokenizer.json</c>, <c>tokenizer_config.json</c>, and the older
/// <c>vocab.json</c> + <c>merges.txt</c> pair. Everything that would change token ids is either understood or refused
/// with a <see cref="ModelFormatException"/> that names it.
/// </summary>
internal static class TokenizerJsonReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 256 };

    /// <summary>Reads a tokenizer.json.</summary>
    public static TokenizerDefinition ReadTokenizerJson(ReadOnlyMemory<byte> json, string source)
    {
        using var document = Parse(json, source);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, "the top level is not a JSON object");
        }

        if (root.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String &&
            version.GetString() != "1.0")
        {
            throw Error(source, $"version '{version.GetString()}' is not supported (only '1.0')");
        }

        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, "it has no 'model' object");
        }

        var (vocab, merges, unknown, fuseUnknown, ignoreMerges) = ReadBpeModel(model, source);
        var forms = ReadNormalizer(root.TryGetProperty("normalizer", out var normalizer) ? normalizer : default, source);
        var stages = ReadPreTokenizer(root.TryGetProperty("pre_tokenizer", out var pre) ? pre : default, source);
        CheckDecoder(root.TryGetProperty("decoder", out var decoder) ? decoder : default, source);
        CheckPostProcessor(root.TryGetProperty("post_processor", out var post) ? post : default, source);

        var added = new List<(AddedTokenSpec, int?)>();
        if (root.TryGetProperty("added_tokens", out var addedTokens) && addedTokens.ValueKind != JsonValueKind.Null)
        {
            if (addedTokens.ValueKind != JsonValueKind.Array)
            {
                throw Error(source, "'added_tokens' is not an array");
            }

            foreach (var entry in addedTokens.EnumerateArray())
            {
                var token = ReadAddedToken(entry, source, "added_tokens");
                int? declared = entry.TryGetProperty("id", out var id) ? ReadInt(id, source, "added_tokens[].id") : null;
                added.Add((token, declared));
            }
        }

        return new TokenizerDefinition
        {
            Vocabulary = vocab,
            Merges = merges,
            UnknownToken = unknown,
            FuseUnknown = fuseUnknown,
            IgnoreMerges = ignoreMerges,
            NormalizationForms = forms,
            PreTokenizerStages = stages,
            AddedTokens = added,
            Source = source,
        };
    }

    /// <summary>
    /// Builds the definition transformers' Qwen2 converter makes from a slow tokenizer's <c>vocab.json</c> and
    /// <c>merges.txt</c>: NFC, the Qwen2 split, byte-level BPE with no unknown token; added tokens come from the config.
    /// </summary>
    public static TokenizerDefinition ReadVocabAndMerges(string vocabPath, string mergesPath, TokenizerConfigFile? config)
    {
        if (config?.TokenizerClass is { } tokenizerClass &&
            tokenizerClass is not ("Qwen2Tokenizer" or "Qwen2TokenizerFast"))
        {
            throw new ModelFormatException(
                $"'{vocabPath}': tokenizer_class '{tokenizerClass}' with vocab.json + merges.txt is not supported; only " +
                "Qwen2Tokenizer folders can be read without a tokenizer.json (give a tokenizer.json for other tokenizers).");
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var document = Parse(ReadAllBytes(vocabPath), vocabPath))
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Error(vocabPath, "vocab.json is not a JSON object of token → id");
            }

            ReadVocabObject(document.RootElement, vocab, vocabPath);
        }

        var merges = new List<(string, string)>();
        var lineNumber = 0;
        foreach (var rawLine in ReadAllLines(mergesPath))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version:", StringComparison.Ordinal)))
            {
                continue;
            }

            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                throw Error(mergesPath, $"line {lineNumber} ('{line}') is not two tokens separated by a space");
            }

            merges.Add((parts[0], parts[1]));
        }

        var added = new List<(AddedTokenSpec, int?)>();
        if (config is not null)
        {
            foreach (var (token, id) in config.AddedTokens)
            {
                added.Add((token, id));
            }
        }

        return new TokenizerDefinition
        {
            Vocabulary = vocab,
            Merges = merges,
            NormalizationForms = [NormalizationForm.FormC],
            PreTokenizerStages =
            [
                PreTokenizerStage.Split(Qwen2PatternScanner.Qwen2Pattern, isRegex: true),
                .. PreTokenizerStage.ByteLevel(config?.AddPrefixSpace ?? false, useRegex: false),
            ],
            AddedTokens = added,
            Source = vocabPath,
        };
    }

    /// <summary>Reads a tokenizer_config.json.</summary>
    public static TokenizerConfigFile ReadTokenizerConfig(ReadOnlyMemory<byte> json, string source)
    {
        using var document = Parse(json, source);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, "the top level is not a JSON object");
        }

        var added = new List<(AddedTokenSpec, int)>();
        if (root.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in decoder.EnumerateObject())
            {
                if (!int.TryParse(property.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    throw Error(source, $"added_tokens_decoder key '{property.Name}' is not a token id");
                }

                added.Add((ReadAddedToken(property.Value, source, "added_tokens_decoder"), id));
            }

            added.Sort((a, b) => a.Item2.CompareTo(b.Item2));
        }

        PaddingSide? paddingSide = null;
        if (root.TryGetProperty("padding_side", out var side) && side.ValueKind == JsonValueKind.String)
        {
            paddingSide = side.GetString() switch
            {
                "left" => Preprocessing.PaddingSide.Left,
                "right" => Preprocessing.PaddingSide.Right,
                var other => throw Error(source, $"padding_side '{other}' is not 'left' or 'right'"),
            };
        }

        int? maxLength = null;
        if (root.TryGetProperty("model_max_length", out var max) && max.ValueKind == JsonValueKind.Number)
        {
            // transformers writes int(1e30) (VERY_LARGE_INTEGER) when a model has no limit.
            var value = max.GetDouble();
            if (value is > 0 and <= int.MaxValue)
            {
                maxLength = (int)value;
            }
        }

        var additional = new List<string>();
        if (root.TryGetProperty("additional_special_tokens", out var extra) && extra.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in extra.EnumerateArray())
            {
                var text = item.ValueKind switch
                {
                    JsonValueKind.String => item.GetString(),
                    JsonValueKind.Object => OptionalString(item, "content"),
                    _ => null,
                };
                additional.Add(text ?? throw Error(source, "an entry of additional_special_tokens is neither a string nor a token object"));
            }
        }

        return new TokenizerConfigFile
        {
            AdditionalSpecialTokens = additional,
            TokenizerClass = OptionalString(root, "tokenizer_class"),
            PadToken = SpecialTokenText(root, "pad_token", source),
            EosToken = SpecialTokenText(root, "eos_token", source),
            BosToken = SpecialTokenText(root, "bos_token", source),
            UnknownToken = SpecialTokenText(root, "unk_token", source),
            ModelMaxLength = maxLength,
            PaddingSide = paddingSide,
            SplitSpecialTokens = root.TryGetProperty("split_special_tokens", out var split) && split.ValueKind == JsonValueKind.True,
            AddPrefixSpace = root.TryGetProperty("add_prefix_space", out var prefix) && prefix.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? prefix.GetBoolean()
                : null,
            AddedTokens = added,
        };
    }

    /// <summary>Reads a whole file, turning I/O failures into <see cref="ModelFormatException"/>.</summary>
    public static byte[] ReadAllBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"Cannot read tokenizer file '{path}': {ex.Message}", ex);
        }
    }

    private static string[] ReadAllLines(string path)
    {
        try
        {
            return File.ReadAllLines(path, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"Cannot read tokenizer file '{path}': {ex.Message}", ex);
        }
    }

    private static (Dictionary<string, int>, List<(string, string)>, string?, bool, bool) ReadBpeModel(JsonElement model, string source)
    {
        var type = OptionalString(model, "type");
        if (type is null && !model.TryGetProperty("merges", out _))
        {
            throw Error(source, "the model has no 'type' and no 'merges'; only BPE models are supported");
        }

        if (type is not null and not "BPE")
        {
            throw Error(source, $"model type '{type}' is not supported; only byte-level BPE models are");
        }

        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() != 0)
        {
            throw Error(source, "BPE dropout is not supported (it makes encoding random)");
        }

        if (model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True)
        {
            throw Error(source, "BPE byte_fallback is not supported (byte-level BPE has every byte in its alphabet)");
        }

        foreach (var affix in (ReadOnlySpan<string>)["continuing_subword_prefix", "end_of_word_suffix"])
        {
            if (OptionalString(model, affix) is { Length: > 0 } value)
            {
                throw Error(source, $"BPE {affix} '{value}' is not supported (byte-level BPE uses none)");
            }
        }

        if (!model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, "the BPE model has no 'vocab' object");
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        ReadVocabObject(vocabElement, vocab, source);

        if (!model.TryGetProperty("merges", out var mergesElement) || mergesElement.ValueKind != JsonValueKind.Array)
        {
            throw Error(source, "the BPE model has no 'merges' array");
        }

        var merges = new List<(string, string)>(mergesElement.GetArrayLength());
        var index = 0;
        foreach (var merge in mergesElement.EnumerateArray())
        {
            switch (merge.ValueKind)
            {
                case JsonValueKind.String:
                    var text = merge.GetString()!;
                    var space = text.IndexOf(' ', StringComparison.Ordinal);
                    if (space <= 0 || space == text.Length - 1 || text.IndexOf(' ', space + 1) >= 0)
                    {
                        throw Error(source, $"merge #{index} ('{text}') is not two tokens separated by one space");
                    }

                    merges.Add((text[..space], text[(space + 1)..]));
                    break;
                case JsonValueKind.Array when merge.GetArrayLength() == 2 &&
                                              merge[0].ValueKind == JsonValueKind.String &&
                                              merge[1].ValueKind == JsonValueKind.String:
                    merges.Add((merge[0].GetString()!, merge[1].GetString()!));
                    break;
                default:
                    throw Error(source, $"merge #{index} is neither \"a b\" nor [\"a\", \"b\"]");
            }

            index++;
        }

        var unknown = OptionalString(model, "unk_token");
        var fuse = model.TryGetProperty("fuse_unk", out var fuseElement) && fuseElement.ValueKind == JsonValueKind.True;
        var ignore = model.TryGetProperty("ignore_merges", out var ignoreElement) && ignoreElement.ValueKind == JsonValueKind.True;
        return (vocab, merges, unknown, fuse, ignore);
    }

    private static void ReadVocabObject(JsonElement element, Dictionary<string, int> vocab, string source)
    {
        var maxId = -1;
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
            {
                throw Error(source, $"vocab['{entry.Name}'] is not a non-negative integer id ({entry.Value})");
            }

            if (!vocab.TryAdd(entry.Name, id))
            {
                throw Error(source, $"vocabulary token '{entry.Name}' appears twice");
            }

            maxId = Math.Max(maxId, id);
        }

        // Ids must be distinct: two tokens on one id could not be decoded.
        if (maxId >= 0)
        {
            var owner = new string?[maxId + 1];
            foreach (var (token, id) in vocab)
            {
                if (owner[id] is { } other)
                {
                    throw Error(source, $"vocabulary id {id} is given to more than one token ('{other}' and '{token}')");
                }

                owner[id] = token;
            }
        }
    }

    private static List<NormalizationForm> ReadNormalizer(JsonElement element, string source)
    {
        var forms = new List<NormalizationForm>();
        if (element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return forms;
        }

        AddNormalizer(element, forms, source);
        return forms;
    }

    private static void AddNormalizer(JsonElement element, List<NormalizationForm> forms, string source)
    {
        var type = element.ValueKind == JsonValueKind.Object ? OptionalString(element, "type") : null;
        switch (type)
        {
            case "NFC":
                forms.Add(NormalizationForm.FormC);
                break;
            case "NFD":
                forms.Add(NormalizationForm.FormD);
                break;
            case "NFKC":
                forms.Add(NormalizationForm.FormKC);
                break;
            case "NFKD":
                forms.Add(NormalizationForm.FormKD);
                break;
            case "Sequence" when element.TryGetProperty("normalizers", out var list) && list.ValueKind == JsonValueKind.Array:
                foreach (var item in list.EnumerateArray())
                {
                    AddNormalizer(item, forms, source);
                }

                break;
            default:
                throw Error(source, $"normalizer '{type ?? element.ToString()}' is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence of those)");
        }
    }

    private static List<PreTokenizerStage> ReadPreTokenizer(JsonElement element, string source)
    {
        var items = new List<JsonElement>();
        if (element.ValueKind == JsonValueKind.Object && OptionalString(element, "type") == "Sequence")
        {
            if (!element.TryGetProperty("pretokenizers", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw Error(source, "the Sequence pre-tokenizer has no 'pretokenizers' array");
            }

            items.AddRange(list.EnumerateArray());
        }
        else if (element.ValueKind == JsonValueKind.Object)
        {
            items.Add(element);
        }

        var stages = new List<PreTokenizerStage>();
        var sawByteLevel = false;
        foreach (var item in items)
        {
            var type = item.ValueKind == JsonValueKind.Object ? OptionalString(item, "type") : null;
            if (sawByteLevel)
            {
                throw Error(source, $"pre-tokenizer '{type}' after ByteLevel is not supported (ByteLevel must come last)");
            }

            switch (type)
            {
                case "Split":
                    stages.Add(ReadSplit(item, source));
                    break;
                case "ByteLevel":
                    sawByteLevel = true;
                    stages.AddRange(PreTokenizerStage.ByteLevel(
                        addPrefixSpace: OptionalBool(item, "add_prefix_space") ?? true,
                        useRegex: OptionalBool(item, "use_regex") ?? true));
                    break;
                default:
                    throw Error(source, $"pre-tokenizer '{type ?? item.ToString()}' is not supported (supported: Split with the Isolated behaviour, ByteLevel, Sequence of those)");
            }
        }

        if (!sawByteLevel)
        {
            throw Error(source, "the pre-tokenizer has no ByteLevel step; only byte-level BPE tokenizers are supported");
        }

        return stages;
    }

    private static PreTokenizerStage ReadSplit(JsonElement item, string source)
    {
        var behavior = OptionalString(item, "behavior");
        if (behavior is not ("Isolated" or "isolated"))
        {
            throw Error(source, $"Split behavior '{behavior}' is not supported (only Isolated)");
        }

        if (OptionalBool(item, "invert") == true)
        {
            throw Error(source, "Split with invert = true is not supported");
        }

        if (!item.TryGetProperty("pattern", out var pattern) || pattern.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, "the Split pre-tokenizer has no 'pattern' object");
        }

        if (OptionalString(pattern, "Regex") is { } regex)
        {
            return PreTokenizerStage.Split(regex, isRegex: true);
        }

        if (OptionalString(pattern, "String") is { Length: > 0 } literal)
        {
            return PreTokenizerStage.Split(literal, isRegex: false);
        }

        throw Error(source, "the Split pattern is neither {\"Regex\": …} nor {\"String\": …}");
    }

    private static void CheckDecoder(JsonElement element, string source)
    {
        var type = element.ValueKind == JsonValueKind.Object ? OptionalString(element, "type") : null;
        if (type == "ByteLevel")
        {
            return;
        }

        if (type == "Sequence" && element.TryGetProperty("decoders", out var list) && list.ValueKind == JsonValueKind.Array &&
            list.GetArrayLength() == 1 && OptionalString(list[0], "type") == "ByteLevel")
        {
            return;
        }

        throw Error(source, $"decoder '{type ?? element.ToString()}' is not supported (only ByteLevel)");
    }

    private static void CheckPostProcessor(JsonElement element, string source)
    {
        if (element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return;
        }

        var type = element.ValueKind == JsonValueKind.Object ? OptionalString(element, "type") : null;
        if (type != "ByteLevel")
        {
            throw Error(source, $"post_processor '{type ?? element.ToString()}' is not supported: this tokenizer adds no tokens around the text (only ByteLevel or none)");
        }
    }

    private static AddedTokenSpec ReadAddedToken(JsonElement element, string source, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, $"an entry of {where} is not an object");
        }

        var content = OptionalString(element, "content") ?? throw Error(source, $"an entry of {where} has no 'content'");
        var special = OptionalBool(element, "special") ?? false;
        return new AddedTokenSpec(
            Id: -1,
            Content: content,
            SingleWord: OptionalBool(element, "single_word") ?? false,
            LeftStrip: OptionalBool(element, "lstrip") ?? false,
            RightStrip: OptionalBool(element, "rstrip") ?? false,
            Normalized: OptionalBool(element, "normalized") ?? !special,
            Special: special);
    }

    private static string? SpecialTokenText(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => OptionalString(value, "content") ?? throw Error(source, $"'{name}' has no 'content'"),
            _ => throw Error(source, $"'{name}' is neither a string nor a token object"),
        };
    }

    private static int ReadInt(JsonElement element, string source, string what)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out var value) || value < 0)
        {
            throw Error(source, $"{what} is not a non-negative integer id ({element})");
        }

        return value;
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool? OptionalBool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    private static JsonDocument Parse(ReadOnlyMemory<byte> json, string source)
    {
        try
        {
            return JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"Tokenizer file '{source}' is not valid JSON: {ex.Message}", ex);
        }
    }

    private static ModelFormatException Error(string source, string problem) =>
        new($"Tokenizer file '{source}' cannot be used: {problem}.");
}
