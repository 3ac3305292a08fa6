using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vlm2Vec;

/// <summary>
/// The manifest of a model bundle (<c>vlm2vec.json</c>): what the model is (architecture, dimension, pooling, dtype),
/// which graphs it has and their interface, the limits and default instructions the preprocessing should apply, every
/// file with its size and digest, and where it came from. Written by the exporter, read (with version checks) by every
/// encoder. See docs/architecture.md, "The model bundle".
/// </summary>
public sealed record Vlm2VecBundleManifest
{
    /// <summary>The manifest's file name inside a bundle folder.</summary>
    public const string FileName = "vlm2vec.json";

    /// <summary>The value of the <c>format</c> field.</summary>
    public const string FormatName = "vlm2vec-bundle";

    /// <summary>The newest format version this library reads and the one it writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The only pooling this format version defines: the final-norm hidden state of the last real token.</summary>
    public const string LastTokenPooling = "last_token";

    /// <summary>Format version of the bundle.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>The architecture (<c>model_type</c>, e.g. <c>qwen2_vl</c>).</summary>
    public required string Architecture { get; init; }

    /// <summary>A model id (e.g. <c>VLM2Vec-Qwen2VL-2B</c>).</summary>
    public required string ModelId { get; init; }

    /// <summary>Embedding dimension (the decoder's hidden size).</summary>
    public required int EmbeddingDimension { get; init; }

    /// <summary>Pooling rule (<see cref="LastTokenPooling"/>).</summary>
    public string Pooling { get; init; } = LastTokenPooling;

    /// <summary>Whether the graphs L2-normalise the pooled vector.</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>Weight and activation dtype of the graphs (<c>float32</c> or <c>float16</c>), or <c>int8</c> for float32
    /// graphs whose projections have int8 weights (ONNX Runtime's CPU provider); graph inputs and outputs are float32
    /// either way.</summary>
    public required string DType { get; init; }

    /// <summary>The padding side the model was trained with (<c>left</c> for VLM2Vec Qwen2-VL).</summary>
    public string PaddingSide { get; init; } = "left";

    /// <summary>The token id padding is filled with.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>The graphs (<see cref="Vlm2VecBundleGraph.VisionRole"/> and <see cref="Vlm2VecBundleGraph.TextRole"/>).</summary>
    public required IReadOnlyList<Vlm2VecBundleGraph> Graphs { get; init; }

    /// <summary>Default instructions by role (<c>query</c>, <c>target</c>); empty when the exporter was given none.</summary>
    public IReadOnlyDictionary<string, string> DefaultInstructions { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Input limits.</summary>
    public required Vlm2VecBundleLimits Limits { get; init; }

    /// <summary>Every file of the bundle except the manifest, with size and digest.</summary>
    public required IReadOnlyList<Vlm2VecBundleFile> Files { get; init; }

    /// <summary>Where the bundle came from.</summary>
    public required Vlm2VecBundleProvenance Provenance { get; init; }

    /// <summary>The graph with role <paramref name="role"/>.</summary>
    /// <exception cref="ModelFormatException">The manifest has no such graph.</exception>
    public Vlm2VecBundleGraph Graph(string role)
    {
        foreach (var graph in Graphs)
        {
            if (string.Equals(graph.Role, role, StringComparison.Ordinal))
            {
                return graph;
            }
        }

        throw new ModelFormatException($"The bundle manifest has no '{role}' graph; it lists: {string.Join(", ", Graphs.Select(g => g.Role))}.");
    }

    /// <summary>The file entry for <paramref name="path"/>, or <see langword="null"/>.</summary>
    public Vlm2VecBundleFile? FindFile(string path)
    {
        foreach (var file in Files)
        {
            if (string.Equals(file.Path, path, StringComparison.Ordinal))
            {
                return file;
            }
        }

        return null;
    }

    /// <summary>Reads <c>vlm2vec.json</c> from a bundle folder.</summary>
    /// <exception cref="ModelFormatException">The folder or manifest is missing, malformed, or of an unsupported version.</exception>
    public static Vlm2VecBundleManifest Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new ModelFormatException($"Model bundle folder '{folder}' does not exist.");
        }

        var path = System.IO.Path.Combine(folder, FileName);
        if (!System.IO.File.Exists(path))
        {
            var hint = System.IO.File.Exists(System.IO.Path.Combine(folder, "config.json"))
                ? " It looks like a Hugging Face checkpoint folder: convert it first (vlm2vec convert --from <folder> --to <bundle>)."
                : string.Empty;
            throw new ModelFormatException($"'{folder}' is not a model bundle: it has no {FileName}.{hint}");
        }

        return Parse(System.IO.File.ReadAllText(path), path);
    }

    /// <summary>Parses manifest text.</summary>
    /// <exception cref="ModelFormatException">Malformed, or a format or version this library does not read.</exception>
    public static Vlm2VecBundleManifest Parse(string json, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        var where = source ?? FileName;
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new ModelFormatException($"Bundle manifest {where} is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"Bundle manifest {where} is not valid JSON: {ex.Message}", ex);
        }

        var reader = new ManifestReader(where);
        var format = reader.String(root, "format");
        if (format != FormatName)
        {
            throw new ModelFormatException($"Bundle manifest {where} has format '{format}'; expected '{FormatName}'.");
        }

        var version = reader.Int(root, "format_version");
        if (version > CurrentFormatVersion)
        {
            throw new ModelFormatException(
                $"Bundle manifest {where} has format_version {version}, newer than this library reads (up to {CurrentFormatVersion}). Update the Vlm2Vec packages, or re-export the bundle with this version's exporter.");
        }

        if (version < 1)
        {
            throw new ModelFormatException($"Bundle manifest {where} has format_version {version}; versions start at 1.");
        }

        var instructions = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root["default_instructions"] is JsonObject instructionObject)
        {
            foreach (var (role, value) in instructionObject)
            {
                instructions[role] = reader.String(instructionObject, role);
            }
        }

        var limits = reader.Object(root, "limits");
        var provenance = reader.Object(root, "provenance");
        var manifest = new Vlm2VecBundleManifest
        {
            FormatVersion = version,
            Architecture = reader.String(root, "architecture"),
            ModelId = reader.String(root, "model_id"),
            EmbeddingDimension = reader.Int(root, "embedding_dimension"),
            Pooling = reader.String(root, "pooling"),
            Normalize = reader.Bool(root, "normalize"),
            DType = reader.String(root, "dtype"),
            PaddingSide = reader.OptionalString(root, "padding_side") ?? "left",
            PadTokenId = root["pad_token_id"] is null ? null : reader.Int(root, "pad_token_id"),
            Graphs = reader.Array(root, "graphs").Select((node, i) => reader.Graph(node, i)).ToList(),
            DefaultInstructions = instructions,
            Limits = new Vlm2VecBundleLimits
            {
                MaxTokens = reader.Int(limits, "max_tokens"),
                MinPixels = reader.Long(limits, "min_pixels"),
                MaxPixels = reader.Long(limits, "max_pixels"),
            },
            Files = reader.Array(root, "files").Select((node, i) => reader.File(node, i)).ToList(),
            Provenance = new Vlm2VecBundleProvenance
            {
                SourceCheckpoint = reader.OptionalString(provenance, "source_checkpoint"),
                Adapter = reader.OptionalString(provenance, "adapter"),
                Exporter = reader.String(provenance, "exporter"),
                ExporterVersion = reader.String(provenance, "exporter_version"),
                ExportedAt = reader.Date(provenance, "exported_at"),
                OnnxOpset = provenance["onnx_opset"] is null ? 0 : reader.Int(provenance, "onnx_opset"),
            },
        };
        manifest.Validate(where);
        return manifest;
    }

    /// <summary>The manifest as indented JSON (snake_case keys).</summary>
    public string ToJson()
    {
        static JsonArray TensorList(IReadOnlyList<Vlm2VecBundleTensor> tensors) => new([.. tensors.Select(t => (JsonNode)new JsonObject
        {
            ["name"] = t.Name,
            ["type"] = t.ElementType,
            ["shape"] = new JsonArray([.. t.Shape.Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : (JsonNode)JsonValue.Create(d))]),
        })]);

        var instructions = new JsonObject();
        foreach (var (role, text) in DefaultInstructions.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            instructions[role] = text;
        }

        var root = new JsonObject
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion,
            ["architecture"] = Architecture,
            ["model_id"] = ModelId,
            ["embedding_dimension"] = EmbeddingDimension,
            ["pooling"] = Pooling,
            ["normalize"] = Normalize,
            ["dtype"] = DType,
            ["padding_side"] = PaddingSide,
            ["pad_token_id"] = PadTokenId,
            ["graphs"] = new JsonArray([.. Graphs.Select(g => (JsonNode)new JsonObject
            {
                ["role"] = g.Role,
                ["file"] = g.File,
                ["data_file"] = g.DataFile,
                ["inputs"] = TensorList(g.Inputs),
                ["outputs"] = TensorList(g.Outputs),
            })]),
            ["default_instructions"] = instructions,
            ["limits"] = new JsonObject
            {
                ["max_tokens"] = Limits.MaxTokens,
                ["min_pixels"] = Limits.MinPixels,
                ["max_pixels"] = Limits.MaxPixels,
            },
            ["files"] = new JsonArray([.. Files.Select(f => (JsonNode)new JsonObject { ["path"] = f.Path, ["bytes"] = f.Bytes, ["sha256"] = f.Sha256 })]),
            ["provenance"] = new JsonObject
            {
                ["source_checkpoint"] = Provenance.SourceCheckpoint,
                ["adapter"] = Provenance.Adapter,
                ["exporter"] = Provenance.Exporter,
                ["exporter_version"] = Provenance.ExporterVersion,
                ["exported_at"] = Provenance.ExportedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["onnx_opset"] = Provenance.OnnxOpset,
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private void Validate(string where)
    {
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw new ModelFormatException($"Bundle manifest {where}: {what}.");
            }
        }

        Require(EmbeddingDimension > 0, $"embedding_dimension must be positive, not {EmbeddingDimension}");
        Require(Pooling == LastTokenPooling, $"pooling '{Pooling}' is not supported (format version {FormatVersion} defines '{LastTokenPooling}')");
        Require(DType is "float32" or "float16" or "int8", $"dtype '{DType}' is not supported (float32, float16 or int8)");
        Require(PaddingSide is "left" or "right", $"padding_side '{PaddingSide}' must be 'left' or 'right'");
        Require(Limits.MaxTokens > 0 && Limits.MinPixels > 0 && Limits.MaxPixels >= Limits.MinPixels,
            $"limits (max_tokens {Limits.MaxTokens}, min_pixels {Limits.MinPixels}, max_pixels {Limits.MaxPixels}) must be positive with max_pixels ≥ min_pixels");
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Files)
        {
            Require(IsSafeRelativePath(file.Path), $"file path '{file.Path}' must be a plain relative path inside the bundle");
            Require(paths.Add(file.Path), $"file '{file.Path}' is listed twice");
            Require(file.Bytes >= 0, $"file '{file.Path}' has a negative size");
            Require(file.Sha256.Length == 64 && file.Sha256.All(char.IsAsciiHexDigitLower), $"file '{file.Path}' has a malformed sha256 '{file.Sha256}'");
        }

        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var graph in Graphs)
        {
            Require(roles.Add(graph.Role), $"graph role '{graph.Role}' is listed twice");
            Require(paths.Contains(graph.File), $"graph file '{graph.File}' is not among the listed files");
            Require(graph.DataFile is null || paths.Contains(graph.DataFile), $"data file '{graph.DataFile}' is not among the listed files");
        }
    }

    private static bool IsSafeRelativePath(string path) =>
        path.Length > 0 && !System.IO.Path.IsPathRooted(path) && !path.Contains('\\', StringComparison.Ordinal)
        && !path.Split('/').Any(part => part is "" or "." or "..");

    /// <summary>Typed field access with messages that name the manifest and the key.</summary>
    private sealed class ManifestReader(string where)
    {
        public string String(JsonObject obj, string key) =>
            OptionalString(obj, key) ?? throw Missing(key, "a string");

        public string? OptionalString(JsonObject obj, string key) => obj[key] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var other => throw Wrong(key, "a string", other),
        };

        public int Int(JsonObject obj, string key)
        {
            var value = Long(obj, key);
            return value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Wrong(key, "a 32-bit integer", obj[key]);
        }

        public long Long(JsonObject obj, string key) => obj[key] switch
        {
            null => throw Missing(key, "an integer"),
            JsonValue v when v.TryGetValue<long>(out var n) => n,
            var other => throw Wrong(key, "an integer", other),
        };

        public bool Bool(JsonObject obj, string key) => obj[key] switch
        {
            null => throw Missing(key, "true or false"),
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            var other => throw Wrong(key, "true or false", other),
        };

        public DateTimeOffset Date(JsonObject obj, string key)
        {
            var text = String(obj, key);
            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
                ? date
                : throw Wrong(key, "an ISO 8601 date", obj[key]);
        }

        public JsonObject Object(JsonObject obj, string key) => obj[key] switch
        {
            null => throw Missing(key, "an object"),
            JsonObject o => o,
            var other => throw Wrong(key, "an object", other),
        };

        public JsonArray Array(JsonObject obj, string key) => obj[key] switch
        {
            null => throw Missing(key, "an array"),
            JsonArray a => a,
            var other => throw Wrong(key, "an array", other),
        };

        public Vlm2VecBundleGraph Graph(JsonNode? node, int index)
        {
            var obj = node as JsonObject ?? throw Wrong($"graphs[{index}]", "an object", node);
            return new Vlm2VecBundleGraph
            {
                Role = String(obj, "role"),
                File = String(obj, "file"),
                DataFile = OptionalString(obj, "data_file"),
                Inputs = Array(obj, "inputs").Select(t => Tensor(t, $"graphs[{index}].inputs")).ToList(),
                Outputs = Array(obj, "outputs").Select(t => Tensor(t, $"graphs[{index}].outputs")).ToList(),
            };
        }

        public Vlm2VecBundleFile File(JsonNode? node, int index)
        {
            var obj = node as JsonObject ?? throw Wrong($"files[{index}]", "an object", node);
            return new Vlm2VecBundleFile { Path = String(obj, "path"), Bytes = Long(obj, "bytes"), Sha256 = String(obj, "sha256") };
        }

        private Vlm2VecBundleTensor Tensor(JsonNode? node, string what)
        {
            var obj = node as JsonObject ?? throw Wrong(what, "an array of objects", node);
            var shape = Array(obj, "shape").Select(d => d switch
            {
                JsonValue v when v.TryGetValue<long>(out var n) => n.ToString(CultureInfo.InvariantCulture),
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                _ => throw Wrong($"{what}.shape", "numbers and names", d),
            }).ToList();
            return new Vlm2VecBundleTensor { Name = String(obj, "name"), ElementType = String(obj, "type"), Shape = shape };
        }

        private ModelFormatException Missing(string key, string what) =>
            new($"Bundle manifest {where} lacks '{key}' ({what}).");

        private ModelFormatException Wrong(string key, string what, JsonNode? actual) =>
            new($"Bundle manifest {where}: '{key}' must be {what}, not {actual?.ToJsonString() ?? "null"}.");
    }
}
