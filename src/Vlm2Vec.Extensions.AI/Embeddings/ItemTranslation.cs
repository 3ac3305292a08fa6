namespace Vlm2Vec.Extensions.AI;

/// <summary>An item of a call translated to a model input, or why it cannot be.</summary>
internal readonly record struct ItemTranslation(MultimodalInput? Input, Exception? Error);
