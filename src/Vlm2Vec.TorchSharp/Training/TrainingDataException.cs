namespace Vlm2Vec.TorchSharp.Training;

/// <summary>A training row that cannot be used, named by <see cref="RowSource"/> (file and line, or index in the caller's sequence).</summary>
public sealed class TrainingDataException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public TrainingDataException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TrainingDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public TrainingDataException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a row, with the reason it is unusable.</summary>
    public TrainingDataException(string rowSource, string reason, Exception? innerException = null)
        : base($"Training row {rowSource}: {reason}", innerException)
    {
        RowSource = rowSource;
        Reason = reason;
    }

    /// <summary>Where the row came from (<c>train.jsonl:17</c>, <c>example 42</c>).</summary>
    public string? RowSource { get; }

    /// <summary>Why it cannot be used.</summary>
    public string? Reason { get; }
}
