using System.Globalization;
using System.Text.Json;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The settings of a Qwen2-VL image processor, as read from a model's <c>preprocessor_config.json</c>. Keys a file
/// omits take the Hugging Face class defaults (<c>Qwen2VLImageProcessor.__init__</c>); change values with a
/// <c>with</c> expression.
/// </summary>
/// <remarks>
/// Pixel budget keys, in the order transformers applies them: <c>size.shortest_edge</c>/<c>size.longest_edge</c>
/// (older files: <c>size.min_pixels</c>/<c>size.max_pixels</c>), then top-level <c>min_pixels</c>/<c>max_pixels</c>,
/// which win. The Qwen2-VL hub file sets <c>min_pixels</c> 3 136 and <c>max_pixels</c> 12 845 056; the class default
/// maximum is 1 003 520 (what VLM2Vec-V2.0 uses, see <see cref="Qwen2VlImageProcessorOptions.Vlm2VecV2"/>).
/// VLM2Vec's vendored copy on <c>main</c> ignores top-level <c>min_pixels</c>/<c>max_pixels</c> when the file has no
/// <c>size</c> (so it falls back to the class default) and always passes its own <c>size</c>; use the option presets to
/// reproduce it rather than editing the file.
/// </remarks>
public sealed record ImageProcessorConfig
{
    /// <summary>The file name inside a model folder.</summary>
    public const string FileName = "preprocessor_config.json";

    /// <summary>The OpenAI CLIP channel means (Qwen2-VL's default <c>image_mean</c>).</summary>
    public static readonly IReadOnlyList<double> ClipMean = [0.48145466, 0.4578275, 0.40821073];

    /// <summary>The OpenAI CLIP channel standard deviations (Qwen2-VL's default <c>image_std</c>).</summary>
    public static readonly IReadOnlyList<double> ClipStd = [0.26862954, 0.26130258, 0.27577711];

    /// <summary>The Hugging Face class defaults (what an empty <c>preprocessor_config.json</c> gives).</summary>
    public static ImageProcessorConfig Default { get; } = new();

    /// <summary>Smallest pixel count after resizing (<c>min_pixels</c>; default 56·56 = 3 136).</summary>
    public long MinPixels { get; init; } = 56 * 56;

    /// <summary>Largest pixel count after resizing (<c>max_pixels</c>; default 28·28·1280 = 1 003 520).</summary>
    public long MaxPixels { get; init; } = 28 * 28 * 1280;

    /// <summary>Side of a square ViT patch (<c>patch_size</c>; default 14).</summary>
    public int PatchSize { get; init; } = 14;

    /// <summary>Frames per temporal patch (<c>temporal_patch_size</c>; default 2): a still image is repeated this many times.</summary>
    public int TemporalPatchSize { get; init; } = 2;

    /// <summary>Patches merged per side by the merger (<c>merge_size</c>; default 2).</summary>
    public int MergeSize { get; init; } = 2;

    /// <summary>Per-channel means (<c>image_mean</c>; default <see cref="ClipMean"/>).</summary>
    public IReadOnlyList<double> ImageMean { get; init; } = ClipMean;

    /// <summary>Per-channel standard deviations (<c>image_std</c>; default <see cref="ClipStd"/>).</summary>
    public IReadOnlyList<double> ImageStd { get; init; } = ClipStd;

    /// <summary>Whether to resize with <c>smart_resize</c> (<c>do_resize</c>; default true).</summary>
    public bool DoResize { get; init; } = true;

    /// <summary>Whether to multiply by <see cref="RescaleFactor"/> (<c>do_rescale</c>; default true).</summary>
    public bool DoRescale { get; init; } = true;

    /// <summary>Rescale factor (<c>rescale_factor</c>; default 1/255).</summary>
    public double RescaleFactor { get; init; } = 1.0 / 255;

    /// <summary>Whether to normalise with mean and std (<c>do_normalize</c>; default true).</summary>
    public bool DoNormalize { get; init; } = true;

    /// <summary>Resampling filter (<c>resample</c>; default 3 = bicubic).</summary>
    public PilResampleFilter Resample { get; init; } = PilResampleFilter.Bicubic;

    /// <summary>The <c>image_processor_type</c> the file names, if any.</summary>
    public string? ImageProcessorType { get; init; }

    /// <summary><c>patch_size·merge_size</c>: both resized sides are multiples of it (28 for Qwen2-VL).</summary>
    public int Factor => PatchSize * MergeSize;

    /// <summary>Values in one flattened patch row: <c>3·temporal_patch_size·patch_size²</c> (1 176).</summary>
    public int PatchRowLength => 3 * TemporalPatchSize * PatchSize * PatchSize;

    /// <summary>Reads <c>preprocessor_config.json</c> from a model folder.</summary>
    /// <exception cref="ModelFormatException">The file is missing or invalid.</exception>
    public static ImageProcessorConfig FromModelFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        return Load(Path.Combine(folder, FileName));
    }

    /// <summary>Reads a <c>preprocessor_config.json</c> file.</summary>
    /// <exception cref="ModelFormatException">The file is missing or invalid.</exception>
    public static ImageProcessorConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"The image processor config '{path}' could not be read: {ex.Message}", ex);
        }

        return Parse(json, path);
    }

    /// <summary>Parses the JSON text of a <c>preprocessor_config.json</c>.</summary>
    /// <exception cref="ModelFormatException">The JSON is invalid or a value has the wrong type or range.</exception>
    public static ImageProcessorConfig FromJson(string json) => Parse(json, "(json)");

    /// <summary>Checks the values and throws <see cref="ModelFormatException"/> naming the first bad one.</summary>
    public void Validate()
    {
        var problem = FindProblem();
        if (problem is not null)
        {
            throw new ModelFormatException($"Invalid image processor config: {problem}");
        }
    }

    private string? FindProblem()
    {
        if (PatchSize <= 0 || MergeSize <= 0 || TemporalPatchSize <= 0)
        {
            return $"patch_size ({PatchSize}), merge_size ({MergeSize}) and temporal_patch_size ({TemporalPatchSize}) must be positive.";
        }

        if (MinPixels <= 0 || MaxPixels < MinPixels)
        {
            return $"min_pixels ({MinPixels}) must be positive and not above max_pixels ({MaxPixels}).";
        }

        if (ImageMean is null || ImageStd is null || ImageMean.Count != 3 || ImageStd.Count != 3)
        {
            return "image_mean and image_std must have 3 values (R, G, B).";
        }

        foreach (var std in ImageStd)
        {
            if (std == 0 || !double.IsFinite(std))
            {
                return $"image_std values must be finite and non-zero (got {std.ToString(CultureInfo.InvariantCulture)}).";
            }
        }

        if (!double.IsFinite(RescaleFactor) || RescaleFactor <= 0)
        {
            return $"rescale_factor must be positive (got {RescaleFactor.ToString(CultureInfo.InvariantCulture)}).";
        }

        return Enum.IsDefined(Resample) ? null : $"resample {(int)Resample} is not supported (1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming).";
    }

    private static ImageProcessorConfig Parse(string json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException($"Image processor config {source} is not a JSON object.");
            }

            var type = GetString(root, "image_processor_type");
            if (type is not null && !type.StartsWith("Qwen2", StringComparison.Ordinal))
            {
                throw new ModelFormatException(
                    $"Image processor config {source} is for '{type}'; only Qwen2-VL image processors (Qwen2VLImageProcessor) are supported.");
            }

            var config = new ImageProcessorConfig { ImageProcessorType = type };
            long? minPixels = null, maxPixels = null;
            if (root.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Object)
            {
                minPixels = GetLong(size, "shortest_edge") ?? GetLong(size, "min_pixels");
                maxPixels = GetLong(size, "longest_edge") ?? GetLong(size, "max_pixels");
            }

            minPixels = GetLong(root, "min_pixels") ?? minPixels;
            maxPixels = GetLong(root, "max_pixels") ?? maxPixels;

            config = config with
            {
                MinPixels = minPixels ?? config.MinPixels,
                MaxPixels = maxPixels ?? config.MaxPixels,
                PatchSize = (int?)GetLong(root, "patch_size") ?? config.PatchSize,
                TemporalPatchSize = (int?)GetLong(root, "temporal_patch_size") ?? config.TemporalPatchSize,
                MergeSize = (int?)GetLong(root, "merge_size") ?? config.MergeSize,
                ImageMean = GetTriple(root, "image_mean") ?? config.ImageMean,
                ImageStd = GetTriple(root, "image_std") ?? config.ImageStd,
                DoResize = GetBool(root, "do_resize") ?? config.DoResize,
                DoRescale = GetBool(root, "do_rescale") ?? config.DoRescale,
                DoNormalize = GetBool(root, "do_normalize") ?? config.DoNormalize,
                RescaleFactor = GetDouble(root, "rescale_factor") ?? config.RescaleFactor,
                Resample = (PilResampleFilter?)(int?)GetLong(root, "resample") ?? config.Resample,
            };

            var problem = config.FindProblem();
            return problem is null ? config : throw new ModelFormatException($"Image processor config {source} is invalid: {problem}");
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"Image processor config {source} is not valid JSON: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or OverflowException)
        {
            throw new ModelFormatException($"Image processor config {source} has a value of the wrong type: {ex.Message}", ex);
        }
    }

    private static string? GetString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? GetLong(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.TryGetInt64(out var l))
        {
            return l;
        }

        // Some writers store integers as floats (3136.0).
        var d = v.GetDouble();
        return d == Math.Floor(d) && Math.Abs(d) < 1e15
            ? (long)d
            : throw new FormatException($"'{name}' must be an integer, got {v.GetRawText()}.");
    }

    private static double? GetDouble(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetDouble() : null;

    private static bool? GetBool(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetBoolean() : null;

    private static double[]? GetTriple(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.Number)
        {
            var x = v.GetDouble();
            return [x, x, x];
        }

        var values = new double[v.GetArrayLength()];
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            values[i++] = item.GetDouble();
        }

        return values;
    }
}
