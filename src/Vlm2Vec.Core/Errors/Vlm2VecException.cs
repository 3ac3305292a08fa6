namespace Vlm2Vec;

/// <summary>Base type of every error the Vlm2Vec libraries raise on purpose.</summary>
public class Vlm2VecException : Exception
{
    /// <summary>Creates the exception.</summary>
    public Vlm2VecException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public Vlm2VecException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public Vlm2VecException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
