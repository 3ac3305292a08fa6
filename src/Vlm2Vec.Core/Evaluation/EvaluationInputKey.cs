namespace Vlm2Vec.Evaluation;

/// <summary>What makes two inputs the same for de-duplication: the exact string and the image path as written (VLM2Vec V1's key).</summary>
internal readonly record struct EvaluationInputKey(string Text, string ImagePath);
