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

    /// <summary>Reads the image processor config and checks that its patch geometry is the vision tower's.</summary>
    private static (long Min, long Max) CheckPreprocessor(byte[] json, string path, Qwen2VlConfig config)
    {
        ImageProcessorConfig processor;
        try
        {
            processor = ImageProcessorConfig.FromJson(System.Text.Encoding.UTF8.GetString(json));
        }
        catch (ModelFormatException ex)
        {
            throw new ModelFormatException($"'{path}': {ex.Message}", ex);
        }

        if (processor.ImageProcessorType is { } type && !type.StartsWith("Qwen2VLImageProcessor", StringComparison.Ordinal))
        {
            throw new ModelFormatException($"'{path}' describes a {type}; a Qwen2-VL model needs Qwen2VLImageProcessor.");
        }

        if (processor.MergeSize != config.Vision.SpatialMergeSize || processor.PatchSize != config.Vision.PatchSize
            || processor.TemporalPatchSize != config.Vision.TemporalPatchSize || processor.PatchRowLength != config.Vision.PatchRowLength)
        {
            throw new ModelFormatException(
                $"'{path}' (merge {processor.MergeSize}, patch {processor.PatchSize}, temporal {processor.TemporalPatchSize}) does not fit the vision tower " +
                $"(merge {config.Vision.SpatialMergeSize}, patch {config.Vision.PatchSize}, temporal {config.Vision.TemporalPatchSize}, {config.Vision.InChannels} channels).");
        }

        return (processor.MinPixels, processor.MaxPixels);
    }

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
