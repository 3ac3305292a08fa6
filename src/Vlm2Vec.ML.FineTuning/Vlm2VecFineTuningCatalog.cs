using Microsoft.ML;

namespace Vlm2Vec.ML;

/// <summary>
/// ML.NET catalog entry for fine-tuning: <c>mlContext.Transforms.FineTuneVlm2Vec(options)</c> trains the model on the
/// pipeline's query/positive pairs when the pipeline is fitted and embeds with the fine-tuned model afterwards.
/// </summary>
/// <example>
/// <code>
/// var pipeline = mlContext.Transforms.LoadRawImageBytes("ImageBytes", imageFolder, "ImagePath")
///     .Append(mlContext.Transforms.FineTuneVlm2Vec(new Vlm2VecFineTuningOptions
///     {
///         BaseModelPath = baseModel,
///         QueryImageColumnName = "ImageBytes", QueryInstruction = "Represent the given image for classification.",
///         PositiveTextColumnName = "Label",
///         Training = new ContrastiveTrainingOptions { OutputFolder = "runs/fashion", BatchSize = 32, MaxSteps = 200 },
///         Embedding = new Vlm2VecEmbeddingOptions { OutputColumnName = "Features" },
///     }))
///     .AppendCacheCheckpoint(mlContext)
///     .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
///     .Append(mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy("Label", "Features"));
/// </code>
/// </example>
public static class Vlm2VecFineTuningCatalog
{
    /// <summary>
    /// An estimator whose <c>Fit</c> fine-tunes the base model contrastively on the input's pairs and returns the
    /// <see cref="Vlm2VecEmbeddingTransformer"/> of the fine-tuned model.
    /// </summary>
    /// <exception cref="ArgumentException">No base model, no training options, or a side of the pair with no column.</exception>
    public static Vlm2VecFineTuningEstimator FineTuneVlm2Vec(this TransformsCatalog catalog, Vlm2VecFineTuningOptions options) => new(catalog, options);
}
