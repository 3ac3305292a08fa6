using Vlm2Vec.Preprocessing;

namespace Vlm2Vec;

/// <summary>
/// A model bundle opened and checked: the manifest, the model config and the tokenizer, each consistent with the others,
/// and every listed file present with its recorded size (and digest, see <see cref="Vlm2VecBundleOpenOptions"/>). Encoders
/// open bundles through this type so that a corrupt or mismatched bundle fails at load, not at the first request.
/// </summary>
public sealed class Vlm2VecBundle
{
    /// <summary>The model config's file name inside a bundle.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>The tokenizer's file name inside a bundle.</summary>
    public const string TokenizerFileName = "tokenizer.json";

    /// <summary>The tokenizer config's file name inside a bundle (optional).</summary>
    public const string TokenizerConfigFileName = "tokenizer_config.json";

    /// <summary>The image processor config's file name inside a bundle.</summary>
    public const string PreprocessorConfigFileName = "preprocessor_config.json";

    private Vlm2VecBundle(string folder, Vlm2VecBundleManifest manifest, Qwen2VlConfig config, Qwen2Tokenizer tokenizer)
    {
        Folder = folder;
        Manifest = manifest;
        Config = config;
        Tokenizer = tokenizer;
    }

    /// <summary>The bundle folder (absolute).</summary>
    public string Folder { get; }

    /// <summary>The manifest.</summary>
    public Vlm2VecBundleManifest Manifest { get; }

    /// <summary>The model config (<c>config.json</c>).</summary>
    public Qwen2VlConfig Config { get; }

    /// <summary>The tokenizer, checked against the model's vocabulary and special-token ids.</summary>
    public Qwen2Tokenizer Tokenizer { get; }

    /// <summary>The absolute path of a bundle file.</summary>
    public string PathOf(string relativePath) => Path.Combine(Folder, relativePath);

    /// <summary>Opens and checks a bundle folder.</summary>
    /// <exception cref="ModelFormatException">
    /// No manifest or an unsupported format version; a listed file missing, of the wrong size or digest; a config of
    /// another architecture or dimension; a tokenizer whose ids do not fit the model; graph interfaces that do not match
    /// the config.
    /// </exception>
    public static Vlm2VecBundle Open(string folder, Vlm2VecBundleOpenOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new Vlm2VecBundleOpenOptions();
        var root = Path.GetFullPath(folder);
        var manifest = Vlm2VecBundleManifest.Load(root);

        // Presence first (one message naming everything that is missing), then meaning (config, tokenizer, graph
        // interfaces: the clearest message for a mismatched file), then sizes and digests.
        var missing = manifest.Files.Where(f => !File.Exists(Path.Combine(root, f.Path))).Select(f => f.Path).ToList();
        if (missing.Count > 0)
        {
            throw new ModelFormatException($"Model bundle '{root}' is incomplete: {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} missing.");
        }

        RequireListed(manifest, root, ConfigFileName);
        RequireListed(manifest, root, TokenizerFileName);
        RequireListed(manifest, root, PreprocessorConfigFileName);
        var config = Qwen2VlConfig.Load(Path.Combine(root, ConfigFileName));
        CheckConfig(manifest, config, root);
        var tokenizerConfig = Path.Combine(root, TokenizerConfigFileName);
        var tokenizer = Qwen2Tokenizer.FromFile(Path.Combine(root, TokenizerFileName), File.Exists(tokenizerConfig) ? tokenizerConfig : null);
        ValidateTokenizer(tokenizer, config, $"Model bundle '{root}'");
        CheckGraphs(manifest, config, root);
        VerifyFiles(manifest, root, options, cancellationToken);
        return new Vlm2VecBundle(root, manifest, config, tokenizer);
    }

    private static void RequireListed(Vlm2VecBundleManifest manifest, string root, string fileName)
    {
        if (manifest.FindFile(fileName) is null)
        {
            throw new ModelFormatException($"Model bundle '{root}': the manifest does not list {fileName}, which every bundle needs.");
        }
    }

    private static void CheckConfig(Vlm2VecBundleManifest manifest, Qwen2VlConfig config, string root)
    {
        if (!string.Equals(config.ModelType, manifest.Architecture, StringComparison.Ordinal))
        {
            throw new ModelFormatException(
                $"Model bundle '{root}': the manifest says architecture '{manifest.Architecture}' but config.json says model_type '{config.ModelType}'.");
        }

        if (config.HiddenSize != manifest.EmbeddingDimension)
        {
            throw new ModelFormatException(
                $"Model bundle '{root}': the manifest says embedding_dimension {manifest.EmbeddingDimension} but config.json has hidden_size {config.HiddenSize}.");
        }
    }

    /// <summary>
    /// Checks that a tokenizer belongs to a model: it must produce only ids the embedding table has, and give the image,
    /// video and vision-marker tokens the config's ids (a tokenizer from another model fails here, with the reason).
    /// </summary>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="config">The model config.</param>
    /// <param name="source">Where the tokenizer is, for the message.</param>
    /// <exception cref="ModelFormatException">The tokenizer does not fit the model.</exception>
    public static void ValidateTokenizer(Qwen2Tokenizer tokenizer, Qwen2VlConfig config, string source)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(config);
        var problems = new List<string>();
        if (tokenizer.MaxTokenId >= config.VocabSize)
        {
            problems.Add($"its largest token id is {tokenizer.MaxTokenId} but the model's embedding table has {config.VocabSize} rows (vocab_size)");
        }

        void Special(string token, int expected, bool required)
        {
            var id = tokenizer.TokenToId(token);
            if (id is null)
            {
                if (required)
                {
                    problems.Add($"it has no {token} token (the model's id {expected})");
                }
            }
            else if (id != expected)
            {
                problems.Add($"{token} is id {id} there but {expected} in config.json");
            }
        }

        Special("<|image_pad|>", config.ImageTokenId, required: true);
        Special("<|video_pad|>", config.VideoTokenId, required: false);
        Special("<|vision_start|>", config.VisionStartTokenId, required: false);
        Special("<|vision_end|>", config.VisionEndTokenId, required: false);
        if (problems.Count > 0)
        {
            throw new ModelFormatException(
                $"{source}: tokenizer.json does not belong to this model (a tokenizer from another model?): {string.Join("; ", problems)}.");
        }
    }

    private static void CheckGraphs(Vlm2VecBundleManifest manifest, Qwen2VlConfig config, string root)
    {
        var vision = manifest.Graph(Vlm2VecBundleGraph.VisionRole);
        var text = manifest.Graph(Vlm2VecBundleGraph.TextRole);
        void RequireLastDim(Vlm2VecBundleTensor? tensor, string graph, string name, long expected, string meaning)
        {
            if (tensor is null)
            {
                throw new ModelFormatException($"Model bundle '{root}': the {graph} graph has no '{name}' in the manifest.");
            }

            var size = tensor.FixedSize(tensor.Shape.Count - 1);
            if (size != expected)
            {
                throw new ModelFormatException(
                    $"Model bundle '{root}': the {graph} graph's '{name}' is {tensor.DescribeShape()} but config.json needs a last dimension of {expected} ({meaning}).");
            }
        }

        RequireLastDim(vision.FindInput(Vlm2VecBundleTensorNames.PixelValues), "vision", Vlm2VecBundleTensorNames.PixelValues, config.Vision.PatchRowLength, "the patch row length");
        RequireLastDim(vision.FindOutput(Vlm2VecBundleTensorNames.ImageEmbeds), "vision", Vlm2VecBundleTensorNames.ImageEmbeds, config.HiddenSize, "hidden_size");
        RequireLastDim(text.FindInput(Vlm2VecBundleTensorNames.ImageEmbeds), "text", Vlm2VecBundleTensorNames.ImageEmbeds, config.HiddenSize, "hidden_size");
        RequireLastDim(text.FindOutput(Vlm2VecBundleTensorNames.Embeddings), "text", Vlm2VecBundleTensorNames.Embeddings, config.HiddenSize, "hidden_size");
        foreach (var name in new[] { Vlm2VecBundleTensorNames.InputIds, Vlm2VecBundleTensorNames.AttentionMask, Vlm2VecBundleTensorNames.PositionIds, Vlm2VecBundleTensorNames.ImageTokenMask })
        {
            if (text.FindInput(name) is null)
            {
                throw new ModelFormatException($"Model bundle '{root}': the text graph has no '{name}' input in the manifest.");
            }
        }

        if (vision.FindInput(Vlm2VecBundleTensorNames.RotaryPositionIds) is null)
        {
            throw new ModelFormatException($"Model bundle '{root}': the vision graph has no '{Vlm2VecBundleTensorNames.RotaryPositionIds}' input in the manifest.");
        }
    }

    private static void VerifyFiles(Vlm2VecBundleManifest manifest, string root, Vlm2VecBundleOpenOptions options, CancellationToken cancellationToken)
    {
        foreach (var file in manifest.Files)
        {
            var path = Path.Combine(root, file.Path);
            var size = new FileInfo(path).Length;
            if (size != file.Bytes)
            {
                var how = size < file.Bytes ? "truncated" : "longer than recorded";
                throw new ModelFormatException(
                    $"Model bundle '{root}': {file.Path} has {size:N0} bytes but the manifest records {file.Bytes:N0} ({how}; an interrupted copy or download?). Copy or re-export the bundle.");
            }

            if (options.VerifyAllDigests || file.Bytes <= options.DigestSizeLimitBytes)
            {
                var digest = Vlm2VecBundleFile.ComputeSha256(path, cancellationToken);
                if (!string.Equals(digest, file.Sha256, StringComparison.Ordinal))
                {
                    throw new ModelFormatException(
                        $"Model bundle '{root}': {file.Path} does not match the manifest's SHA-256 (recorded {file.Sha256[..12]}…, found {digest[..12]}…): the file was changed or corrupted after export.");
                }
            }
        }
    }
}
