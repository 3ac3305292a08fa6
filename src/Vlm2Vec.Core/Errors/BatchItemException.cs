namespace Vlm2Vec;

/// <summary>A failure of one item of a batch; <see cref="ItemIndex"/> is its position in the caller's input.</summary>
public sealed class BatchItemException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public BatchItemException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BatchItemException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BatchItemException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for item <paramref name="itemIndex"/>, wrapping its cause.</summary>
    public BatchItemException(int itemIndex, Exception innerException)
        : base($"Item {itemIndex}: {innerException?.Message}", innerException)
    {
        ItemIndex = itemIndex;
    }

    /// <summary>The failing item's index in the input.</summary>
    public int ItemIndex { get; }
}
