namespace Vlm2Vec.Server.Batching;

/// <summary>The vectors of one request, in input order, and its prompt tokens (image tokens included).</summary>
internal sealed record EmbeddingOutcome(float[][] Vectors, long PromptTokens);
