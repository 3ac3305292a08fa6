namespace Vlm2Vec.TorchSharp.Training;

/// <summary>One row after preparation: the prepared example, or why it could not be prepared (null for a row already known bad).</summary>
internal sealed record PreparationResult(int Index, PreparedExample? Example, Exception? Error);
