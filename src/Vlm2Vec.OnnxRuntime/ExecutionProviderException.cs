namespace Vlm2Vec.OnnxRuntime;

/// <summary>
/// The requested execution provider (CUDA, TensorRT) could not be loaded or could not run the model, and
/// <see cref="OnnxVlm2VecEncoderOptions.Fallback"/> is <see cref="ExecutionProviderFallback.Fail"/>. The message carries
/// ONNX Runtime's reason (a missing <c>libcublasLt.so.13</c>, no device, …).
/// </summary>
public sealed class ExecutionProviderException : Vlm2VecException
{
    /// <summary>Creates the exception.</summary>
    public ExecutionProviderException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ExecutionProviderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ExecutionProviderException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="provider"/>, wrapping ONNX Runtime's error.</summary>
    public ExecutionProviderException(OnnxExecutionProvider provider, string message, Exception? innerException)
        : base(message, innerException)
    {
        Provider = provider;
    }

    /// <summary>The provider that was requested.</summary>
    public OnnxExecutionProvider Provider { get; }
}
