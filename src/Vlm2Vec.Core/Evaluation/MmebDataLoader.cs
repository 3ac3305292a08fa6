using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vlm2Vec.Evaluation;

/// <summary>
/// Loads MMEB-eval data (spec §2.2): JSON Lines files (one row object per line) and parquet files (the Hugging Face
/// <c>TIGER-Lab/MMEB-eval</c> layout, <c>{Dataset}/test-00000-of-00001.parquet</c>), or folders of them. Each row is
/// checked (fields present and typed, candidate lists parallel and non-empty, referenced images present); a bad row
/// fails the load with its file, line and field, or is skipped and counted (<see cref="MmebDataLoadOptions.InvalidRows"/>).
/// </summary>
/// <remarks>
/// A dataset is named after its file (<c>coco-mini_i2t.jsonl</c> → <c>coco-mini_i2t</c>), or after its folder when the
/// file has a split-shard name (<c>ImageNet-1K/test-00000-of-00001.parquet</c> → <c>ImageNet-1K</c>; shards of one folder
/// are concatenated in name order). MMEB names are mapped to <see cref="MmebCatalog"/> for the meta-task and IND/OOD flag.
/// </remarks>
public static partial class MmebDataLoader
{
    /// <summary>Loads every dataset of the given files and folders (folders are searched recursively for .jsonl and .parquet).</summary>
    /// <exception cref="EvaluationDataException">A path does not exist, holds no data file, two files give the same dataset name, or a row is malformed.</exception>
    public static async Task<IReadOnlyList<MmebEvalDataset>> LoadAsync(
        IEnumerable<string> paths, MmebDataLoadOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        options ??= new MmebDataLoadOptions();
        Validate(options);
        var groups = new List<(string Name, List<string> Files)>();
        var byName = new Dictionary<string, (string Origin, List<string> Files)>(StringComparer.OrdinalIgnoreCase);
        foreach (var path in paths)
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            foreach (var file in DataFiles(path))
            {
                var name = DatasetName(file);
                var key = MmebCatalog.Find(name)?.Name ?? name;
                var origin = Path.GetDirectoryName(Path.GetFullPath(file))!;
                if (byName.TryGetValue(key, out var existing))
                {
                    if (!string.Equals(existing.Origin, origin, StringComparison.Ordinal) || !IsShardName(file))
                    {
                        throw new EvaluationDataException(
                            $"Two data files give the dataset '{key}': '{existing.Files[0]}' and '{file}'. Pass each dataset once (rename one file to evaluate both).",
                            file,
                            0,
                            null);
                    }

                    existing.Files.Add(file);
                    continue;
                }

                var files = new List<string> { file };
                byName[key] = (origin, files);
                groups.Add((name, files));
            }
        }

        var datasets = new List<MmebEvalDataset>(groups.Count);
        foreach (var (name, files) in groups)
        {
            datasets.Add(await LoadFilesAsync(name, files, options, logger ?? NullLogger.Instance, cancellationToken).ConfigureAwait(false));
        }

        return datasets;
    }

    /// <summary>Loads one data file (.jsonl or .parquet) as one dataset.</summary>
    /// <exception cref="EvaluationDataException">The file does not exist, is not a data file, or a row is malformed.</exception>
    public static Task<MmebEvalDataset> LoadFileAsync(string path, MmebDataLoadOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new MmebDataLoadOptions();
        Validate(options);
        if (!File.Exists(path))
        {
            throw new EvaluationDataException($"Data file '{path}' does not exist.", path, 0, null);
        }

        if (!IsDataFile(path))
        {
            throw new EvaluationDataException($"'{path}' is not an evaluation data file: use .jsonl (one row object per line) or .parquet (MMEB-eval).", path, 0, null);
        }

        return LoadFilesAsync(DatasetName(path), [path], options, logger ?? NullLogger.Instance, cancellationToken);
    }

    /// <summary>The dataset name a data file gives (its name, or its folder's for split-shard names).</summary>
    public static string DatasetName(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (IsShardName(full) && Path.GetFileName(Path.GetDirectoryName(full)) is { Length: > 0 } folder)
        {
            return folder;
        }

        return Path.GetFileNameWithoutExtension(full);
    }

    private static void Validate(MmebDataLoadOptions options)
    {
        if (options.RowLimit is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"RowLimit must be positive (or null for all rows), not {options.RowLimit}.");
        }

        if (options.ImageRoot is { } root && !Directory.Exists(root))
        {
            throw new EvaluationDataException($"The image root '{root}' does not exist. Give the folder the rows' image paths are relative to.", root, 0, null);
        }
    }

    private static bool IsDataFile(string path) =>
        path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);

    private static bool IsShardName(string path) => ShardName().IsMatch(Path.GetFileNameWithoutExtension(path));

    private static IEnumerable<string> DataFiles(string path)
    {
        if (File.Exists(path))
        {
            if (!IsDataFile(path))
            {
                throw new EvaluationDataException($"'{path}' is not an evaluation data file: use .jsonl (one row object per line) or .parquet (MMEB-eval).", path, 0, null);
            }

            return [Path.GetFullPath(path)];
        }

        if (!Directory.Exists(path))
        {
            throw new EvaluationDataException($"Data path '{path}' does not exist (give a .jsonl or .parquet file, or a folder of them).", path, 0, null);
        }

        var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Where(IsDataFile)
            .Select(Path.GetFullPath)
            .Order(StringComparer.Ordinal)
            .ToList();
        return files.Count > 0
            ? files
            : throw new EvaluationDataException($"Folder '{path}' holds no .jsonl or .parquet evaluation files.", path, 0, null);
    }

    private static async Task<MmebEvalDataset> LoadFilesAsync(string name, List<string> files, MmebDataLoadOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var imageRoot = Path.GetFullPath(options.ImageRoot ?? Path.GetDirectoryName(Path.GetFullPath(files[0]))!);
        var validator = new RowValidator(imageRoot, options.CheckImageFiles);
        var rows = new List<MmebEvalRow>();
        var skipped = 0;
        var messages = new List<string>();
        foreach (var file in files)
        {
            var unit = file.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? "row" : "line";
            var full = Path.GetFullPath(file);
            IEnumerable<(RawRow Row, string? Problem)> raw = unit == "row"
                ? (await ParquetRowReader.ReadAsync(full, cancellationToken).ConfigureAwait(false)).Select(r => (r, (string?)null))
                : JsonlRowReader.Read(full, cancellationToken).Select(l => (l.Row, l.Problem));
            foreach (var (row, parseProblem) in raw)
            {
                if (options.RowLimit is { } limit && rows.Count >= limit)
                {
                    break;
                }

                string? field = null;
                var problem = parseProblem;
                var valid = problem is null ? validator.Validate(row, out field, out problem) : null;
                if (valid is not null)
                {
                    rows.Add(valid);
                    continue;
                }

                var message = $"{full}, {unit} {row.LineNumber}: {problem}.";
                if (options.InvalidRows == InvalidDataHandling.Fail)
                {
                    throw new EvaluationDataException(message + " (Skip malformed rows with InvalidDataHandling.Skip / --skip-invalid.)", full, row.LineNumber, field);
                }

                skipped++;
                if (messages.Count < options.MaxSkipMessages)
                {
                    messages.Add(message);
                }

                EvaluationLog.RowSkipped(logger, message);
            }
        }

        if (rows.Count == 0)
        {
            throw new EvaluationDataException(
                skipped > 0
                    ? $"Dataset '{name}' has no valid row ({skipped} malformed row(s) skipped; the first: {messages[0]})"
                    : $"Dataset '{name}' ({files[0]}) has no rows.",
                files[0],
                0,
                null);
        }

        if (skipped > 0)
        {
            EvaluationLog.RowsSkipped(logger, name, skipped, rows.Count);
        }

        var dataset = new MmebEvalDataset
        {
            Name = name,
            Rows = rows,
            ImageRoot = imageRoot,
            SourcePaths = files.Select(Path.GetFullPath).ToList(),
            SkippedRowCount = skipped,
            SkippedRowMessages = messages,
            RowLimit = options.RowLimit,
        };
        return DatasetClassifier.Classify(dataset);
    }

    [GeneratedRegex(@"^(test|train|validation|val|dev|eval|data)(-\d+-of-\d+)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ShardName();
}
