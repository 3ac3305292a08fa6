namespace Vlm2Vec.Hub;

/// <summary>
/// Which files of a repository a snapshot download takes. Patterns are <c>fnmatch</c> wildcards as in Python's
/// <c>huggingface_hub</c> (<c>allow_patterns</c> / <c>ignore_patterns</c>): case-sensitive, <c>*</c> matches across
/// <c>/</c>, <c>?</c> one character, <c>[abc]</c> / <c>[!abc]</c> a set; a pattern ending in <c>/</c> means everything
/// under that folder.
/// </summary>
public sealed class HubFileFilter
{
    private readonly Lazy<FnmatchPattern[]?> _include;
    private readonly Lazy<FnmatchPattern[]> _exclude;

    /// <summary>Creates a filter that takes every file (set <see cref="Include"/>/<see cref="Exclude"/> to narrow it).</summary>
    public HubFileFilter()
    {
        _include = new(() => Include is null ? null : Compile(Include));
        _exclude = new(() => Compile(Exclude));
    }

    /// <summary>Every file of the repository.</summary>
    public static HubFileFilter All { get; } = new();

    /// <summary>
    /// What a VLM2Vec model needs, at the repository's top level: <c>config.json</c>, <c>generation_config.json</c>, the
    /// tokenizer and processor files, chat templates, weights (<c>*.safetensors</c> and their index; <c>*.bin</c> and
    /// their index only where no safetensors of the same kind exist) and a PEFT adapter (<c>adapter_config.json</c>,
    /// <c>adapter_model.*</c>). Sub-folders (evaluation scores, extra LoRA copies) and trainer state are left out.
    /// </summary>
    public static HubFileFilter Vlm2VecModel { get; } = new()
    {
        Include =
        [
            "config.json",
            "generation_config.json",
            "preprocessor_config.json",
            "video_preprocessor_config.json",
            "processor_config.json",
            "tokenizer*",
            "special_tokens_map.json",
            "added_tokens.json",
            "vocab.json",
            "merges.txt",
            "chat_template.json",
            "chat_template.jinja",
            "*.safetensors",
            "*.safetensors.index.json",
            "*.bin",
            "*.bin.index.json",
            "adapter_config.json",
            "adapter_model.*",
        ],
        Exclude = ["*/*", "training_args.bin", "optimizer*", "scheduler*", "rng_state*"],
        PreferSafetensors = true,
    };

    /// <summary>Patterns a file must match one of; <see langword="null"/> takes every file.</summary>
    public IReadOnlyList<string>? Include { get; init; }

    /// <summary>Patterns that drop a file even when it matches <see cref="Include"/>.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>
    /// Drops <c>*.bin</c> weights and <c>*.bin.index.json</c> from a folder when the selection holds
    /// <c>*.safetensors</c> of the same kind there (PEFT adapter files, <c>adapter_model*</c>, and model weights are
    /// judged apart), the way <c>transformers</c> and PEFT prefer safetensors when loading.
    /// </summary>
    public bool PreferSafetensors { get; init; }

    /// <summary>Whether <paramref name="path"/> (a repository path with <c>/</c> separators) passes <see cref="Include"/> and <see cref="Exclude"/>.</summary>
    /// <remarks><see cref="PreferSafetensors"/> depends on the other files, so it is applied to a whole listing, not here.</remarks>
    public bool IsMatch(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var normalized = path.Replace('\\', '/');
        var include = _include.Value;
        if (include is not null && !AnyMatch(include, normalized))
        {
            return false;
        }

        return !AnyMatch(_exclude.Value, normalized);
    }

    /// <summary>The files of a listing this filter takes, in listing order.</summary>
    internal List<T> Select<T>(IEnumerable<T> items, Func<T, string> pathOf)
    {
        var selected = new List<T>();
        foreach (var item in items)
        {
            if (IsMatch(pathOf(item)))
            {
                selected.Add(item);
            }
        }

        if (!PreferSafetensors)
        {
            return selected;
        }

        // Folders (with the weight kind) that hold safetensors; .bin weights of the same folder and kind are dropped.
        var safetensorsKinds = new HashSet<(string Folder, bool Adapter)>();
        foreach (var item in selected)
        {
            var path = pathOf(item);
            if (path.EndsWith(".safetensors", StringComparison.Ordinal))
            {
                safetensorsKinds.Add(WeightKind(path));
            }
        }

        if (safetensorsKinds.Count == 0)
        {
            return selected;
        }

        selected.RemoveAll(item =>
        {
            var path = pathOf(item);
            var isBinWeight = path.EndsWith(".bin", StringComparison.Ordinal) ||
                              path.EndsWith(".bin.index.json", StringComparison.Ordinal);
            return isBinWeight && safetensorsKinds.Contains(WeightKind(path));
        });
        return selected;
    }

    private static (string Folder, bool Adapter) WeightKind(string path)
    {
        var slash = path.LastIndexOf('/');
        var folder = slash < 0 ? string.Empty : path[..slash];
        var name = slash < 0 ? path : path[(slash + 1)..];
        return (folder, name.StartsWith("adapter_model", StringComparison.Ordinal));
    }

    private static bool AnyMatch(FnmatchPattern[] patterns, string path)
    {
        foreach (var pattern in patterns)
        {
            if (pattern.IsMatch(path))
            {
                return true;
            }
        }

        return false;
    }

    private static FnmatchPattern[] Compile(IReadOnlyList<string> patterns)
    {
        var compiled = new FnmatchPattern[patterns.Count];
        for (var i = 0; i < patterns.Count; i++)
        {
            compiled[i] = new FnmatchPattern(patterns[i] ?? throw new ArgumentException("A file pattern is null.", nameof(patterns)));
        }

        return compiled;
    }
}
