using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Vlm2Vec.OnnxRuntime;

/// <summary>
/// The ONNX Runtime engine as an <see cref="IVlm2VecEncoderFactory"/>: opens vlm2vec model bundles (a folder with
/// <c>vlm2vec.json</c>, as <c>vlm2vec convert</c> writes) with <see cref="OnnxVlm2VecEncoder.FromBundle"/>. Register it
/// where encoders are opened by path (dependency injection, the ML.NET transformer, the server, the CLI).
/// </summary>
/// <remarks>
/// Devices: <c>cpu</c> (and null); <c>cuda</c> / <c>cuda:N</c> and <c>tensorrt</c> / <c>tensorrt:N</c>, which fail with
/// <see cref="ExecutionProviderException"/> when the provider cannot run; <c>auto</c> / <c>auto:N</c>, CUDA when it works
/// and the CPU otherwise (the reason is logged).
/// </remarks>
public sealed class OnnxRuntimeEncoderFactory : IVlm2VecEncoderFactory
{
    /// <summary>The engine name, <c>onnxruntime</c>.</summary>
    public const string EngineName = "onnxruntime";

    private readonly OnnxVlm2VecEncoderOptions _template;

    /// <summary>Creates the factory with ONNX Runtime's defaults (CPU unless a device is asked for).</summary>
    public OnnxRuntimeEncoderFactory()
        : this(null)
    {
    }

    /// <summary>
    /// Creates the factory; <paramref name="template"/> sets the session settings (threads, arena, vision-run budget) of
    /// every encoder it opens. The device, preprocessing and logger of each <see cref="Create"/> call replace the template's.
    /// </summary>
    public OnnxRuntimeEncoderFactory(OnnxVlm2VecEncoderOptions? template)
    {
        _template = template ?? new OnnxVlm2VecEncoderOptions();
    }

    /// <inheritdoc />
    public string Engine => EngineName;

    /// <inheritdoc />
    public bool CanOpen(string modelPath) =>
        !string.IsNullOrEmpty(modelPath) && Directory.Exists(modelPath) && File.Exists(Path.Combine(modelPath, Vlm2VecBundleManifest.FileName));

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The device string names no device this engine knows.</exception>
    public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (provider, deviceId, fallback) = ParseDevice(options.Device);
        return OnnxVlm2VecEncoder.FromBundle(options.ModelPath, new OnnxVlm2VecEncoderOptions
        {
            ExecutionProvider = provider,
            DeviceId = deviceId,
            Fallback = fallback,
            IntraOpThreads = _template.IntraOpThreads,
            InterOpThreads = _template.InterOpThreads,
            GraphOptimizationLevel = _template.GraphOptimizationLevel,
            EnableCpuMemoryArena = _template.EnableCpuMemoryArena,
            IntraOpSpinning = _template.IntraOpSpinning,
            SessionConfigEntries = _template.SessionConfigEntries,
            MaxPatchesPerVisionRun = _template.MaxPatchesPerVisionRun,
            BundleChecks = _template.BundleChecks,
            Preprocessing = options.Preprocessing,
            Logger = options.LoggerFactory?.CreateLogger<OnnxVlm2VecEncoder>() ?? _template.Logger,
        });
    }

    /// <summary>Reads a device string (<c>cpu</c>, <c>cuda:1</c>, <c>tensorrt</c>, <c>auto</c>, …).</summary>
    /// <exception cref="NotSupportedException">Unknown device name or a bad ordinal.</exception>
    internal static (OnnxExecutionProvider Provider, int DeviceId, ExecutionProviderFallback Fallback) ParseDevice(string? device)
    {
        if (string.IsNullOrWhiteSpace(device))
        {
            return (OnnxExecutionProvider.Cpu, 0, ExecutionProviderFallback.Fail);
        }

        var parts = device.Trim().Split(':', 2);
        var id = 0;
        if (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out id) || id < 0))
        {
            throw new NotSupportedException($"Device '{device}': the ordinal after ':' must be a non-negative integer (e.g. cuda:1).");
        }

        return parts[0].ToLowerInvariant() switch
        {
            "cpu" when parts.Length == 1 => (OnnxExecutionProvider.Cpu, 0, ExecutionProviderFallback.Fail),
            "cuda" or "gpu" => (OnnxExecutionProvider.Cuda, id, ExecutionProviderFallback.Fail),
            "tensorrt" or "trt" => (OnnxExecutionProvider.TensorRt, id, ExecutionProviderFallback.Fail),
            "auto" => (OnnxExecutionProvider.Cuda, id, ExecutionProviderFallback.UseCpu),
            _ => throw new NotSupportedException(
                $"Device '{device}' is not one the ONNX Runtime engine knows: use cpu, cuda[:N], tensorrt[:N] or auto[:N] (CUDA when it works, else CPU)."),
        };
    }
}
