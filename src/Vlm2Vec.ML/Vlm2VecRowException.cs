namespace Vlm2Vec.ML;

/// <summary>
/// A row of an <c>IDataView</c> could not be embedded. <see cref="RowPosition"/> is the row's position in the cursor
/// that read it (−1 when the row came through a row mapper, such as a <c>PredictionEngine</c>, which has no position);
/// the message also describes the row's content, and <see cref="Exception.InnerException"/> is the cause.
/// </summary>
public sealed class Vlm2VecRowException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public Vlm2VecRowException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public Vlm2VecRowException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public Vlm2VecRowException(string message, Exception? innerException)
        : base(message, innerException)
    {
        RowPosition = -1;
    }

    /// <summary>Creates the exception for the row at <paramref name="rowPosition"/>.</summary>
    public Vlm2VecRowException(long rowPosition, string message, Exception? innerException)
        : base(message, innerException)
    {
        RowPosition = rowPosition;
    }

    /// <summary>The row's position in its cursor, or −1 when unknown.</summary>
    public long RowPosition { get; } = -1;
}
