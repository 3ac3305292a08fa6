namespace Vlm2Vec;

/// <summary>An input that cannot be embedded: no text and no image, an empty string where text is required, and so on.</summary>
public sealed class InvalidInputException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public InvalidInputException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidInputException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public InvalidInputException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
