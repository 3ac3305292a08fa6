using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>A Hugging Face shard index (<c>*.index.json</c>): <c>metadata.total_size</c> and <c>weight_map</c> (tensor → file).</summary>
internal sealed class ShardIndex
{
    private ShardIndex(IReadOnlyDictionary<string, string> weightMap, IReadOnlyList<string> files, long? totalSize)
    {
        WeightMap = weightMap;
        Files = files;
        TotalSize = totalSize;
    }

    /// <summary>Stored tensor name → shard file name.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>Shard file names in order of first appearance in <see cref="WeightMap"/>, sorted by name.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary><c>metadata.total_size</c>, when present.</summary>
    public long? TotalSize { get; }

    /// <summary>Reads and validates an index file; every shard must exist beside it.</summary>
    public static ShardIndex Load(string indexPath)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(indexPath)) as JsonObject
                ?? throw new ModelFormatException($"Shard index '{indexPath}' is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"Shard index '{indexPath}' is not valid JSON: {ex.Message}", ex);
        }

        if (root["weight_map"] is not JsonObject map)
        {
            throw new ModelFormatException($"Shard index '{indexPath}' has no weight_map object.");
        }

        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in map)
        {
            if (value is not JsonValue v || !v.TryGetValue<string>(out var file) || string.IsNullOrEmpty(file))
            {
                throw new ModelFormatException($"Shard index '{indexPath}': weight_map entry '{name}' is not a file name.");
            }

            if (file.Contains('/', StringComparison.Ordinal) || file.Contains('\\', StringComparison.Ordinal) || file == ".." || file == ".")
            {
                throw new ModelFormatException($"Shard index '{indexPath}': weight_map entry '{name}' names '{file}', which is not a file beside the index.");
            }

            weightMap[name] = file;
        }

        if (weightMap.Count == 0)
        {
            throw new ModelFormatException($"Shard index '{indexPath}' has an empty weight_map.");
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var files = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var missing = files.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
        if (missing.Count > 0)
        {
            throw new ModelFormatException(
                $"Shard index '{indexPath}' lists {missing.Count} shard file(s) that are not in the folder: {string.Join(", ", missing)}.");
        }

        long? totalSize = root["metadata"] is JsonObject metadata && metadata["total_size"] is JsonValue total && total.TryGetValue<long>(out var size)
            ? size
            : null;
        return new ShardIndex(weightMap, files, totalSize);
    }

    /// <summary>Writes an index in the transformers format.</summary>
    public static string ToJson(IReadOnlyDictionary<string, string> weightMap, long totalSize)
    {
        var map = new JsonObject();
        foreach (var (name, file) in weightMap.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            map[name] = file;
        }

        var root = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = totalSize },
            ["weight_map"] = map,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
