using System.Text.Json;
using System.Text.Json.Nodes;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.TorchSharp.Export;

/// <summary>
/// The non-weight files of a bundle, found and checked before anything is written: <c>tokenizer.json</c> (+ optional
/// <c>tokenizer_config.json</c>) checked against the model's vocabulary and special ids, <c>preprocessor_config.json</c>
/// checked against the vision config, and <c>config.json</c>.
/// </summary>
internal sealed class ExportSources
{
    private ExportSources(List<(string Name, byte[] Bytes)> contents, int? padTokenId, long minPixels, long maxPixels)
    {
        Contents = contents;
        PadTokenId = padTokenId;
        MinPixels = minPixels;
        MaxPixels = maxPixels;
    }

    /// <summary>File name and bytes of each file to copy into the bundle.</summary>
    public IReadOnlyList<(string Name, byte[] Bytes)> Contents { get; }

    /// <summary>Number of files.</summary>
    public int Count => Contents.Count;

    /// <summary>The pad id: the tokenizer's pad token, else <c>&lt;|endoftext|&gt;</c>, else the config's pad/bos id.</summary>
    public int? PadTokenId { get; }

    /// <summary>The image processor's <c>min_pixels</c>.</summary>
    public long MinPixels { get; }

    /// <summary>The image processor's <c>max_pixels</c>.</summary>
    public long MaxPixels { get; }

    /// <summary>
    /// Finds the files: the tokenizer and processor configs in <paramref name="tokenizerFolder"/> when given, else in the
    /// adapter folder when it has them, else in the checkpoint folder.
    /// </summary>
    /// <exception cref="ModelFormatException">A file is missing, unreadable, or does not fit the model.</exception>
    public static ExportSources Resolve(Qwen2VlConfig config, string? tokenizerFolder, string? adapterFolder, string? checkpointFolder, byte[]? configJson)
    {
        var candidates = tokenizerFolder is not null
            ? [tokenizerFolder]
            : new[] { adapterFolder, checkpointFolder }.Where(f => f is not null).Cast<string>().ToArray();
        if (tokenizerFolder is not null && !Directory.Exists(tokenizerFolder))
        {
            throw new ModelFormatException($"Tokenizer folder '{tokenizerFolder}' does not exist.");
        }

        var tokenizerJson = Find(candidates, Vlm2VecBundle.TokenizerFileName)
            ?? throw new ModelFormatException(
                $"No {Vlm2VecBundle.TokenizerFileName} in {Describe(candidates)}: the bundle needs the model's tokenizer. Pass the folder that has it (--tokenizer / Vlm2VecExportOptions.TokenizerFolder).");
        var folder = Path.GetDirectoryName(tokenizerJson)!;
        var tokenizerConfig = Path.Combine(folder, Vlm2VecBundle.TokenizerConfigFileName);
        var hasTokenizerConfig = File.Exists(tokenizerConfig);
        var tokenizer = Qwen2Tokenizer.FromFile(tokenizerJson, hasTokenizerConfig ? tokenizerConfig : null);
        Vlm2VecBundle.ValidateTokenizer(tokenizer, config, $"'{folder}'");

        var preprocessor = Find(candidates, Vlm2VecBundle.PreprocessorConfigFileName)
            ?? throw new ModelFormatException(
                $"No {Vlm2VecBundle.PreprocessorConfigFileName} in {Describe(candidates)}: the bundle needs the model's image processor config. Pass the folder that has it (--tokenizer / Vlm2VecExportOptions.TokenizerFolder).");
        var preprocessorBytes = File.ReadAllBytes(preprocessor);
        var (minPixels, maxPixels) = CheckPreprocessor(preprocessorBytes, preprocessor, config);

        var contents = new List<(string, byte[])>
        {
            (Vlm2VecBundle.ConfigFileName, configJson ?? System.Text.Encoding.UTF8.GetBytes(config.ToJson())),
            (Vlm2VecBundle.TokenizerFileName, File.ReadAllBytes(tokenizerJson)),
            (Vlm2VecBundle.PreprocessorConfigFileName, preprocessorBytes),
        };
        if (hasTokenizerConfig)
        {
            contents.Add((Vlm2VecBundle.TokenizerConfigFileName, File.ReadAllBytes(tokenizerConfig)));
        }

        var padTokenId = tokenizer.PadTokenId ?? tokenizer.TokenToId("<|endoftext|>") ?? config.PadTokenId ?? config.BosTokenId;
        return new ExportSources(contents, padTokenId, minPixels, maxPixels);
    }

    /// <summary>
    /// Reads <c>min_pixels</c>/<c>max_pixels</c> (or the newer <c>size.shortest_edge</c>/<c>longest_edge</c>) and checks
    /// that the patch geometry matches the vision tower.
    /// </summary>
    private static (long Min, long Max) CheckPreprocessor(byte[] json, string path, Qwen2VlConfig config)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new ModelFormatException($"'{path}' is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"'{path}' is not valid JSON: {ex.Message}", ex);
        }

        var type = (root["image_processor_type"] as JsonValue)?.GetValue<string>();
        if (type is not null && !type.StartsWith("Qwen2VLImageProcessor", StringComparison.Ordinal))
        {
            throw new ModelFormatException($"'{path}' describes a {type}; a Qwen2-VL model needs Qwen2VLImageProcessor.");
        }

        var problems = new List<string>();
        void Match(string key, int expected)
        {
            if (root[key] is JsonValue value && value.TryGetValue<int>(out var actual) && actual != expected)
            {
                problems.Add($"{key} is {actual} but the vision tower needs {expected}");
            }
        }

        Match("patch_size", config.Vision.PatchSize);
        Match("temporal_patch_size", config.Vision.TemporalPatchSize);
        Match("merge_size", config.Vision.SpatialMergeSize);
        if (problems.Count > 0)
        {
            throw new ModelFormatException($"'{path}' does not fit the model: {string.Join("; ", problems)}.");
        }

        var size = root["size"] as JsonObject;
        var min = Long(root["min_pixels"] ?? size?["shortest_edge"], 56L * 56);
        var max = Long(root["max_pixels"] ?? size?["longest_edge"], 28L * 28 * 1280);
        if (min <= 0 || max < min)
        {
            throw new ModelFormatException($"'{path}': min_pixels {min} and max_pixels {max} must be positive with max ≥ min.");
        }

        return (min, max);
    }

    private static long Long(JsonNode? node, long fallback) =>
        node is JsonValue v && v.TryGetValue<long>(out var n) ? n : node is JsonValue d && d.TryGetValue<double>(out var x) ? (long)x : fallback;

    private static string? Find(IEnumerable<string> folders, string fileName)
    {
        foreach (var folder in folders)
        {
            var path = Path.Combine(folder, fileName);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    private static string Describe(string[] folders) =>
        folders.Length == 0 ? "(no folder)" : string.Join(" or ", folders.Select(f => $"'{f}'"));
}
