namespace Vlm2Vec.TorchSharp.Export;

/// <summary>How <see cref="Vlm2VecOnnxExporter"/> writes a model bundle.</summary>
public sealed class Vlm2VecExportOptions
{
    /// <summary>Weight dtype: float32 for CPU serving (default), float16 for GPU serving, int8 projections for faster CPU
    /// serving at a small accuracy cost (see <see cref="Vlm2VecExportDType.Int8"/>).</summary>
    public Vlm2VecExportDType DType { get; init; } = Vlm2VecExportDType.Float32;

    /// <summary>
    /// Store the token-embedding table in float16 in a float32 bundle (the rows are cast back to float32 after the
    /// lookup). For small models the table of Qwen2-VL's 151,936-token vocabulary is most of the bundle, and this halves
    /// it; embeddings then differ from the checkpoint's by the float16 rounding of the input vectors (relative 2⁻¹¹ per
    /// element). Applies to float32 and int8 bundles; no effect on float16 bundles.
    /// </summary>
    public bool Float16EmbeddingTable { get; init; }

    /// <summary>The model id recorded in the manifest; default: the adapter folder's name, else the checkpoint folder's.</summary>
    public string? ModelId { get; init; }

    /// <summary>
    /// Where <c>tokenizer.json</c> (+ <c>tokenizer_config.json</c>) and <c>preprocessor_config.json</c> come from. Default:
    /// the adapter folder when it has them (VLM2Vec adapters ship them), else the checkpoint folder. Required when
    /// exporting an in-memory model.
    /// </summary>
    public string? TokenizerFolder { get; init; }

    /// <summary>Default instructions recorded in the manifest, by role (<c>query</c>, <c>target</c>).</summary>
    public IReadOnlyDictionary<string, string>? DefaultInstructions { get; init; }

    /// <summary>The token limit recorded in the manifest; default: the model's <c>max_position_embeddings</c>.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Replace an existing bundle at the target (only a folder holding a bundle, or an empty one, is replaced).</summary>
    public bool Overwrite { get; init; }

    /// <summary>Progress reports (stage, item, bytes); the CLI draws a progress bar from them.</summary>
    public IProgress<Vlm2VecExportProgress>? Progress { get; init; }

    /// <summary>Graph settings that override the defaults the dtype picks (tests and benchmarks).</summary>
    internal Qwen2VlGraphOptions? GraphOptions { get; init; }
}
