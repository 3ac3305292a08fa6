namespace Vlm2Vec;

/// <summary>
/// Model files that cannot be used: missing or corrupt files, unsupported architectures, tensors with the wrong names or
/// shapes, a tokenizer that does not match the model, an unknown bundle format version.
/// </summary>
public sealed class ModelFormatException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public ModelFormatException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ModelFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ModelFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
