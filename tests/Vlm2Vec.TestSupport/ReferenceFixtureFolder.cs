namespace Vlm2Vec.TestSupport;

/// <summary>
/// Locates the Hugging Face reference fixtures (<c>tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference</c>: tiny random
/// Qwen2-VL checkpoints, adapters and transformers outputs) from any test project's binaries; fails loudly when missing.
/// </summary>
public static class ReferenceFixtureFolder
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The fixture folder.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A model folder (tiny-qwen2vl-tied, tiny-qwen2vl-tied-bin, tiny-qwen2vl-tied-bf16, tiny-qwen2vl-untied-sharded).</summary>
    public static string Model(string name) => Existing(Path.Combine(Root, "models", name));

    /// <summary>An adapter folder (dora, dora-newlayout, lora) or an expected-output folder.</summary>
    public static string Adapter(string name) => Existing(Path.Combine(Root, "adapters", name));

    private static string Existing(string path) =>
        Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"Reference fixture folder is missing: {path}");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Vlm2Vec.TorchSharp.Tests", "Fixtures", "reference");
            if (File.Exists(Path.Combine(candidate, "manifest.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/Vlm2Vec.TorchSharp.Tests/Fixtures/reference was not found above " + AppContext.BaseDirectory);
    }
}
