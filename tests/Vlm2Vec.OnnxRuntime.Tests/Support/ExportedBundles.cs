using System.Collections.Concurrent;
using Vlm2Vec.TorchSharp.Export;

namespace Vlm2Vec.OnnxRuntime.Tests.Support;

/// <summary>
/// Bundles exported from the reference checkpoints, each written once per test run and shared by the tests of the
/// collection (exporting is the slow part). Deleted at the end.
/// </summary>
public sealed class ExportedBundles : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<string>> _bundles = new(StringComparer.Ordinal);

    public ExportedBundles()
    {
        Root = Path.Combine(Path.GetTempPath(), $"vlm2vec-ort-tests-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
    }

    /// <summary>The temp folder everything is written under.</summary>
    public string Root { get; }

    /// <summary>The tied model (fixture folder <paramref name="modelFolder"/>) exported with <paramref name="dtype"/>.</summary>
    internal string Get(string modelFolder, Vlm2VecExportDType dtype = Vlm2VecExportDType.Float32, string? adapter = null, bool diagnostics = false)
    {
        var key = $"{modelFolder}-{dtype}-{adapter ?? "none"}-{(diagnostics ? "diag" : "plain")}";
        return _bundles.GetOrAdd(key, k => new Lazy<string>(() => Export(k, modelFolder, dtype, adapter, diagnostics))).Value;
    }

    /// <summary>The tied model exported with graph settings other than the dtype's defaults.</summary>
    internal string GetVariant(string name, Qwen2VlGraphOptions graphOptions)
    {
        var key = "variant-" + name;
        return _bundles.GetOrAdd(key, k => new Lazy<string>(() =>
        {
            var target = Path.Combine(Root, "bundles", k);
            Vlm2VecOnnxExporter.ExportAsync(ReferenceCases.Model("tiny-qwen2vl-tied"), null, target,
                new Vlm2VecExportOptions { TokenizerFolder = TokenizerFor("tiny-qwen2vl-tied"), GraphOptions = graphOptions }).GetAwaiter().GetResult();
            return target;
        })).Value;
    }

    /// <summary>A tokenizer/processor folder for the fixture model's config.</summary>
    internal string TokenizerFor(string modelFolder)
    {
        var folder = Path.Combine(Root, "tokenizers", modelFolder);
        if (!File.Exists(Path.Combine(folder, "tokenizer.json")))
        {
            var config = Qwen2VlConfig.Load(Path.Combine(ReferenceCases.Model(modelFolder), "config.json"));
            TestModelFiles.WriteTokenizerFolder(folder, config, config.BosTokenId ?? 0);
        }

        return folder;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string Export(string key, string modelFolder, Vlm2VecExportDType dtype, string? adapter, bool diagnostics)
    {
        var target = Path.Combine(Root, "bundles", key);
        var options = new Vlm2VecExportOptions
        {
            DType = dtype,
            TokenizerFolder = TokenizerFor(modelFolder),
            GraphOptions = diagnostics ? Vlm2VecOnnxExporter.DefaultGraphOptions(dtype) with { IncludeLastHiddenState = true } : null,
        };
        Vlm2VecOnnxExporter.ExportAsync(ReferenceCases.Model(modelFolder), adapter is null ? null : ReferenceCases.Adapter(adapter), target, options)
            .GetAwaiter().GetResult();
        return target;
    }
}

/// <summary>The tests that share <see cref="ExportedBundles"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ExportedBundlesCollection : ICollectionFixture<ExportedBundles>
{
    public const string Name = "exported bundles";
}
