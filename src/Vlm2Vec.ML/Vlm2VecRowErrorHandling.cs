namespace Vlm2Vec.ML;

/// <summary>What the Vlm2Vec embedding transformer does with a row it cannot embed (an undecodable or missing image
/// file, empty text and no image, an input over the token limit with truncation off).</summary>
public enum Vlm2VecRowErrorHandling
{
    /// <summary>Fail the cursor with a <see cref="Vlm2VecRowException"/> that names the row and the cause (default).</summary>
    Throw,

    /// <summary>
    /// Give the row a vector of <see cref="float.NaN"/> (so it is easy to filter out with
    /// <c>mlContext.Data.FilterRowsByMissingValues</c>) and log a warning naming the row on <c>MLContext.Log</c>.
    /// </summary>
    ReturnNaN,
}
