using Microsoft.Extensions.Logging;

namespace Vlm2Vec.OnnxRuntime;

/// <summary>Log messages of the ONNX Runtime encoder.</summary>
internal static partial class OnnxRuntimeLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "The {Provider} execution provider could not be used for '{Bundle}' ({Reason}); running on the CPU provider instead.")]
    public static partial void ProviderFallback(ILogger logger, OnnxExecutionProvider provider, string bundle, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Loaded '{ModelId}' ({DType}) from '{Bundle}' on {Engine} in {Milliseconds} ms.")]
    public static partial void Loaded(ILogger logger, string modelId, string dtype, string bundle, string engine, long milliseconds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "'{Bundle}' holds float16 weights, which ONNX Runtime's CPU provider runs slower than float32; export a float32 bundle for CPU serving.")]
    public static partial void Float16OnCpu(ILogger logger, string bundle);
}
