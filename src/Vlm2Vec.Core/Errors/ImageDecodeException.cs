namespace Vlm2Vec;

/// <summary>An image that could not be decoded or that breaks a configured limit. <see cref="Kind"/> says why.</summary>
public sealed class ImageDecodeException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public ImageDecodeException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ImageDecodeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ImageDecodeException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with its kind and the image's name (a path, or a description).</summary>
    public ImageDecodeException(ImageErrorKind kind, string? source, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Source = source;
    }

    /// <summary>What went wrong.</summary>
    public ImageErrorKind Kind { get; }

    /// <summary>The image's path or description, when known.</summary>
    public new string? Source { get; }
}
