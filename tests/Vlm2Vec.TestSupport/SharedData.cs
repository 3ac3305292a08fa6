namespace Vlm2Vec.TestSupport;

/// <summary>
/// Locates the project's shared test data (<c>../shared/data</c> beside the repository). Tests that need it fail
/// loudly when it is missing: they never skip themselves into green.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The absolute path of <c>shared/data</c>.</summary>
    public static string DataRoot => Root.Value;

    /// <summary>An absolute path under <c>shared/data</c>; the file or folder must exist.</summary>
    public static string Path(params string[] parts)
    {
        var path = System.IO.Path.Combine([DataRoot, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException($"Shared test data is missing: '{path}'.", path);
        }

        return path;
    }

    /// <summary>The Qwen2-VL tokenizer folder (tokenizer.json, tokenizer_config.json, config.json, preprocessor_config.json).</summary>
    public static string Qwen2VlTokenizerFolder => Path("tokenizer", "qwen2-vl");

    private static string FindRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("VLM2VEC_SHARED_DATA");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return Directory.Exists(fromEnv)
                ? System.IO.Path.GetFullPath(fromEnv)
                : throw new DirectoryNotFoundException($"VLM2VEC_SHARED_DATA points to '{fromEnv}', which does not exist.");
        }

        // Walk up from the test binaries: <repo>/tests/X/bin/Release/net10.0 -> <repo>/../shared/data.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate) && File.Exists(System.IO.Path.Combine(candidate, "README.md")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException(
            "Shared test data (shared/data beside the repository) was not found above " + AppContext.BaseDirectory +
            ". Set VLM2VEC_SHARED_DATA to its path.");
    }
}
