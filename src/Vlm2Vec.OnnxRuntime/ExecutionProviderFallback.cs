namespace Vlm2Vec.OnnxRuntime;

/// <summary>What the encoder does when the requested GPU provider cannot be used.</summary>
public enum ExecutionProviderFallback
{
    /// <summary>Log a warning with the reason and run on the CPU provider (the default).</summary>
    UseCpu,

    /// <summary>Throw <see cref="ExecutionProviderException"/> with the reason.</summary>
    Fail,
}
