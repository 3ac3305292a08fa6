namespace Vlm2Vec.TorchSharp;

/// <summary>libtorch / TorchSharp's native library could not be loaded on this machine. The message says why and what to do.</summary>
public sealed class TorchSharpLoadException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public TorchSharpLoadException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TorchSharpLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public TorchSharpLoadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
