using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.ML;

/// <summary>
/// Settings of <see cref="Vlm2VecFineTuningCatalog.FineTuneVlm2Vec"/>: the base model, which columns form the training
/// pairs, every contrastive-training option, and what the returned embedding transformer embeds.
/// </summary>
/// <remarks>
/// Each row is one training pair: a query (image and/or text) and its positive target (image and/or text), optionally
/// with hard negatives. The other queries' positives in a batch are in-batch negatives (InfoNCE, VLM2Vec).
/// </remarks>
public sealed class Vlm2VecFineTuningOptions
{
    /// <summary>The Hugging Face Qwen2-VL checkpoint folder to fine-tune (weights, <c>config.json</c>, tokenizer and
    /// <c>preprocessor_config.json</c>). Required.</summary>
    public string? BaseModelPath { get; set; }

    /// <summary>The query's image column (<c>Vector&lt;Byte&gt;</c> encoded file, or <c>String</c> path), or null.</summary>
    public string? QueryImageColumnName { get; set; }

    /// <summary>The query's text column (<c>String</c>), or null.</summary>
    public string? QueryTextColumnName { get; set; }

    /// <summary>The instruction of every query (for example <c>Represent the given image for classification.</c>), or null.</summary>
    public string? QueryInstruction { get; set; }

    /// <summary>The positive target's image column (<c>Vector&lt;Byte&gt;</c> or <c>String</c> path), or null.</summary>
    public string? PositiveImageColumnName { get; set; }

    /// <summary>The positive target's text column (<c>String</c>; for classification, the class name), or null.</summary>
    public string? PositiveTextColumnName { get; set; }

    /// <summary>The instruction of every target, or null (VLM2Vec's targets usually have none).</summary>
    public string? PositiveInstruction { get; set; }

    /// <summary>
    /// An optional hard-negative text column: <c>String</c> (one negative) or a vector of <c>String</c> (several). Used
    /// when <see cref="ContrastiveTrainingOptions.HardNegatives"/> is above 0.
    /// </summary>
    public string? NegativesColumnName { get; set; }

    /// <summary>The folder relative image paths are read from (path columns only).</summary>
    public string? ImageFolder { get; set; }

    /// <summary>
    /// Every option of the contrastive trainer: <c>OutputFolder</c> (required: checkpoints, the step log and the
    /// fine-tuned model go there), LoRA/DoRA or full mode and the adapter, GradCache chunk sizes, batch size,
    /// temperature, hard negatives, steps/epochs, learning rate and schedule, seed, checkpoint cadence, resume.
    /// <see cref="ContrastiveTrainingOptions.BaseModelFolder"/> is taken from <see cref="BaseModelPath"/>; after a LoRA
    /// run the estimator writes the merged model the returned transformer opens (<c>ml-model/</c>), so
    /// <see cref="ContrastiveTrainingOptions.MergeAdapter"/> is not used.
    /// </summary>
    public ContrastiveTrainingOptions? Training { get; set; }

    /// <summary>
    /// What the returned embedding transformer embeds (columns, instruction, role, batching, row errors). When it names
    /// neither an image nor a text column, the query columns and <see cref="QueryInstruction"/> are used. Its
    /// <c>ModelPath</c>, <c>Encoder</c> and <c>EncoderFactory</c> are replaced by the fine-tuned model.
    /// </summary>
    public Vlm2VecEmbeddingOptions Embedding { get; set; } = new();

    /// <summary>
    /// Stops training (ML.NET has no public cancellation hook): the trainer finishes its current step, writes a
    /// checkpoint, and <c>Fit</c> throws <see cref="OperationCanceledException"/>. Fitting again with the same options and
    /// data resumes from that checkpoint.
    /// </summary>
    public CancellationToken CancellationToken { get; set; }
}
