namespace Vlm2Vec;

/// <summary>
/// An input whose token count exceeds the configured maximum and whose truncation policy is to refuse
/// (or whose image tokens alone exceed it: a limit never cuts inside an image run).
/// </summary>
public sealed class InputTooLongException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public InputTooLongException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public InputTooLongException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public InputTooLongException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the measured and allowed lengths.</summary>
    public InputTooLongException(string message, int tokenCount, int maxTokens)
        : base(message)
    {
        TokenCount = tokenCount;
        MaxTokens = maxTokens;
    }

    /// <summary>The number of tokens the input needs.</summary>
    public int TokenCount { get; }

    /// <summary>The configured maximum.</summary>
    public int MaxTokens { get; }
}
