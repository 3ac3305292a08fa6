namespace Vlm2Vec.ML;

/// <summary>
/// Settings of <see cref="Vlm2VecCatalog.EmbedWithVlm2Vec(Microsoft.ML.TransformsCatalog, Vlm2VecEmbeddingOptions)"/>:
/// which columns to embed, with which model, how rows are batched and what happens to rows that cannot be embedded.
/// </summary>
/// <remarks>
/// At least one of <see cref="ImageColumnName"/> and <see cref="TextColumnName"/> is required. The model comes from
/// <see cref="ModelPath"/> (saveable: the path is recorded in the saved ML.NET model) or from an already-open
/// <see cref="Encoder"/> (not saveable).
/// </remarks>
public sealed class Vlm2VecEmbeddingOptions
{
    /// <summary>The output column: a <c>Vector&lt;Single, D&gt;</c> with D the model's embedding dimension (default <c>Embedding</c>).</summary>
    public string OutputColumnName { get; set; } = "Embedding";

    /// <summary>
    /// The image column, or null for text only. Either <c>Vector&lt;Byte&gt;</c> holding an encoded image file (what
    /// <c>LoadRawImageBytes</c> produces; JPEG, PNG, GIF, WebP, BMP, TIFF) or <c>String</c> holding a file path
    /// (relative paths are taken from <see cref="ImageFolder"/>). An empty value means "no image in this row".
    /// </summary>
    public string? ImageColumnName { get; set; }

    /// <summary>The folder relative image paths are read from (path columns only); null: the current directory.</summary>
    public string? ImageFolder { get; set; }

    /// <summary>The text column (<c>String</c>), or null for images only. An empty value means "no text in this row".</summary>
    public string? TextColumnName { get; set; }

    /// <summary>The instruction for every row (for example <c>Represent the given image.</c>), or null for none.</summary>
    public string? Instruction { get; set; }

    /// <summary>
    /// A <c>String</c> column with a per-row instruction, or null. A row whose value is empty falls back to
    /// <see cref="Instruction"/>.
    /// </summary>
    public string? InstructionColumnName { get; set; }

    /// <summary>Which side of a retrieval pair the rows are (default <see cref="EmbeddingRole.Query"/>).</summary>
    public EmbeddingRole Role { get; set; } = EmbeddingRole.Query;

    /// <summary>
    /// The model folder: an ONNX Runtime model bundle (with <c>vlm2vec.json</c>; needs the Vlm2Vec.OnnxRuntime package)
    /// or a Hugging Face Qwen2-VL checkpoint folder (<c>config.json</c> + safetensors; needs Vlm2Vec.TorchSharp).
    /// The absolute path is recorded in a saved model, which reopens the model from there when it is loaded.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// The engine that opens <see cref="ModelPath"/>; null picks one from the folder's content (see
    /// <see cref="ModelPath"/>). Its type is recorded in a saved model and created again when the model is loaded, so it
    /// needs a public constructor callable without arguments for <c>Model.Save</c> to succeed.
    /// </summary>
    public IVlm2VecEncoderFactory? EncoderFactory { get; set; }

    /// <summary>
    /// An already-open encoder to use instead of <see cref="ModelPath"/> (not owned: the caller disposes it after the
    /// transformer's last use). A transformer over an encoder object cannot be saved.
    /// </summary>
    public IVlm2VecEncoder? Encoder { get; set; }

    /// <summary>
    /// The device, in the engine's words (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>); null takes <c>MLContext.GpuDeviceId</c>
    /// (<c>cuda:N</c> when set; with <c>MLContext.FallbackToCpu</c> an engine that cannot use it runs on the CPU, with a
    /// logged warning) and otherwise lets the engine choose.
    /// </summary>
    public string? Device { get; set; }

    /// <summary>Preprocessing settings (prompt style, image pixel budget, token limit and truncation).</summary>
    public PreprocessorOptions Preprocessing { get; set; } = new();

    /// <summary>How the rows of one read are grouped into encoder calls (rows, token and patch budgets).</summary>
    public EmbedderOptions Batching { get; set; } = new();

    /// <summary>
    /// Rows a cursor reads ahead and embeds together (default 64); the encoder calls within them follow
    /// <see cref="Batching"/>. Row mappers (a <c>PredictionEngine</c>) embed one row at a time.
    /// </summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>What to do with a row that cannot be embedded (default: throw, naming the row).</summary>
    public Vlm2VecRowErrorHandling RowErrors { get; set; } = Vlm2VecRowErrorHandling.Throw;

    /// <summary>A shallow copy (the options objects inside are immutable records or shared engine objects).</summary>
    internal Vlm2VecEmbeddingOptions Copy() => (Vlm2VecEmbeddingOptions)MemberwiseClone();
}
