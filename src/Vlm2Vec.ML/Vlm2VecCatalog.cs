using Microsoft.ML;

namespace Vlm2Vec.ML;

/// <summary>
/// ML.NET catalog entries for VLM2Vec: <c>mlContext.Transforms.EmbedWithVlm2Vec(...)</c> adds an embedding column
/// computed from image and/or text columns.
/// </summary>
/// <example>
/// <code>
/// var pipeline = mlContext.Transforms.LoadRawImageBytes("ImageBytes", imageFolder, "ImagePath")
///     .Append(mlContext.Transforms.EmbedWithVlm2Vec("Features", modelFolder, imageColumnName: "ImageBytes",
///         instruction: "Represent the given image for classification."))
///     .AppendCacheCheckpoint(mlContext)
///     .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
///     .Append(mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy());
/// </code>
/// </example>
public static class Vlm2VecCatalog
{
    /// <summary>
    /// Embeds image and/or text columns with a VLM2Vec model into <paramref name="outputColumnName"/>, a
    /// <c>Vector&lt;Single, D&gt;</c> of L2-normalised embeddings.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The embedding column.</param>
    /// <param name="modelPath">A model bundle folder (ONNX Runtime) or a Hugging Face checkpoint folder (TorchSharp).</param>
    /// <param name="imageColumnName">The image column: <c>Vector&lt;Byte&gt;</c> from <c>LoadRawImageBytes</c>, or <c>String</c> file paths; null for none.</param>
    /// <param name="textColumnName">The text column (<c>String</c>); null for none.</param>
    /// <param name="instruction">The instruction for every row, or null.</param>
    /// <param name="role">Query or target side.</param>
    /// <exception cref="ArgumentException">Neither an image nor a text column is named, or the model folder is not a model.</exception>
    public static Vlm2VecEmbeddingEstimator EmbedWithVlm2Vec(
        this TransformsCatalog catalog,
        string outputColumnName,
        string modelPath,
        string? imageColumnName = null,
        string? textColumnName = null,
        string? instruction = null,
        EmbeddingRole role = EmbeddingRole.Query)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        return new Vlm2VecEmbeddingEstimator(catalog, new Vlm2VecEmbeddingOptions
        {
            OutputColumnName = outputColumnName,
            ModelPath = modelPath,
            ImageColumnName = imageColumnName,
            TextColumnName = textColumnName,
            Instruction = instruction,
            Role = role,
        });
    }

    /// <summary>Embeds image and/or text columns with a VLM2Vec model, configured by <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">The options name no input column, no model, or both a path and an encoder.</exception>
    public static Vlm2VecEmbeddingEstimator EmbedWithVlm2Vec(this TransformsCatalog catalog, Vlm2VecEmbeddingOptions options) =>
        new(catalog, options);
}
