using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Vlm2Vec.OnnxRuntime;

/// <summary>
/// The two ONNX Runtime sessions of a bundle, created on the requested provider or, under the fallback policy, on the CPU
/// provider with the reason logged; their interfaces are checked against the manifest.
/// </summary>
internal sealed class OrtSessions : IDisposable
{
    /// <summary>The manifest dtype of a bundle with int8 projections (CPU provider only).</summary>
    public const string Int8DType = "int8";

    /// <summary>ONNX Runtime's session config key for intra-op thread spinning.</summary>
    private const string AllowSpinningKey = "session.intra_op.allow_spinning";

    private OrtSessions(InferenceSession vision, InferenceSession text, OnnxExecutionProvider provider, string? fallbackReason)
    {
        Vision = vision;
        Text = text;
        Provider = provider;
        FallbackReason = fallbackReason;
    }

    public InferenceSession Vision { get; }

    public InferenceSession Text { get; }

    /// <summary>The provider the sessions actually run on.</summary>
    public OnnxExecutionProvider Provider { get; }

    /// <summary>Why the requested GPU provider is not used, or null.</summary>
    public string? FallbackReason { get; }

    /// <summary>Creates the sessions.</summary>
    /// <exception cref="ExecutionProviderException">The GPU provider failed and the policy is to fail.</exception>
    /// <exception cref="ModelFormatException">A graph cannot be loaded, or its interface differs from the manifest.</exception>
    public static OrtSessions Create(Vlm2VecBundle bundle, OnnxVlm2VecEncoderOptions options)
    {
        var logger = options.Logger ?? NullLogger.Instance;
        string? fallbackReason = null;
        var provider = options.ExecutionProvider;
        OrtSessions? sessions = null;
        if (provider != OnnxExecutionProvider.Cpu && bundle.Manifest.DType == Int8DType)
        {
            // The int8 bundle's projections are com.microsoft DynamicQuantizeMatMul nodes, which only ORT's CPU provider
            // implements: on a GPU provider they would run on the CPU with copies around every one of them.
            fallbackReason = "int8 bundles run on the CPU provider only (their DynamicQuantizeMatMul nodes have no GPU kernel); export a float16 bundle for GPU serving";
            if (options.Fallback == ExecutionProviderFallback.Fail)
            {
                throw new ExecutionProviderException(provider, $"'{bundle.Folder}' cannot run on the {provider} execution provider: {fallbackReason}. Set Fallback = UseCpu to run it on the CPU.", null);
            }

            OnnxRuntimeLog.ProviderFallback(logger, provider, bundle.Folder, fallbackReason);
            provider = OnnxExecutionProvider.Cpu;
        }

        if (provider != OnnxExecutionProvider.Cpu)
        {
            try
            {
                sessions = CreateOn(bundle, options, provider);
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                var missing = GpuLibraryProbe.MissingLibraries(provider);
                fallbackReason = missing.Count == 0 ? ex.Message.Trim() : $"{ex.Message.Trim()}; not loadable here: {string.Join(", ", missing)}";
                if (options.Fallback == ExecutionProviderFallback.Fail)
                {
                    throw new ExecutionProviderException(
                        provider,
                        $"The {provider} execution provider (device {options.DeviceId}) could not run '{bundle.Folder}': {fallbackReason}. " +
                        "It needs an NVIDIA GPU with the CUDA 13 runtime and cuDNN (TensorRT for TensorRt) on the library path; set Fallback = UseCpu to run on the CPU instead.",
                        ex);
                }

                OnnxRuntimeLog.ProviderFallback(logger, provider, bundle.Folder, fallbackReason);
                provider = OnnxExecutionProvider.Cpu;
            }
        }

        try
        {
            sessions ??= CreateOn(bundle, options, OnnxExecutionProvider.Cpu);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelFormatException($"Model bundle '{bundle.Folder}': ONNX Runtime cannot load its graphs ({ex.Message.Trim()}). The bundle is corrupt or was written by an incompatible exporter; re-export it.", ex);
        }

        var result = new OrtSessions(sessions.Vision, sessions.Text, provider, fallbackReason);
        try
        {
            CheckInterface(bundle, Vlm2VecBundleGraph.VisionRole, result.Vision);
            CheckInterface(bundle, Vlm2VecBundleGraph.TextRole, result.Text);
        }
        catch
        {
            result.Dispose();
            throw;
        }

        return result;
    }

    public void Dispose()
    {
        Vision.Dispose();
        Text.Dispose();
    }

    private static OrtSessions CreateOn(Vlm2VecBundle bundle, OnnxVlm2VecEncoderOptions options, OnnxExecutionProvider provider)
    {
        InferenceSession? vision = null;
        try
        {
            using (var visionOptions = SessionOptionsFor(options, provider))
            {
                vision = new InferenceSession(bundle.PathOf(bundle.Manifest.Graph(Vlm2VecBundleGraph.VisionRole).File), visionOptions);
            }

            using var textOptions = SessionOptionsFor(options, provider);
            var text = new InferenceSession(bundle.PathOf(bundle.Manifest.Graph(Vlm2VecBundleGraph.TextRole).File), textOptions);
            return new OrtSessions(vision, text, provider, null);
        }
        catch
        {
            vision?.Dispose();
            throw;
        }
    }

    private static SessionOptions SessionOptionsFor(OnnxVlm2VecEncoderOptions options, OnnxExecutionProvider provider)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = options.GraphOptimizationLevel,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            EnableCpuMemArena = options.EnableCpuMemoryArena,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try
        {
            if (options.SessionConfigEntries?.ContainsKey(AllowSpinningKey) != true)
            {
                sessionOptions.AddSessionConfigEntry(AllowSpinningKey, options.IntraOpSpinning ? "1" : "0");
            }

            if (options.SessionConfigEntries is not null)
            {
                foreach (var (key, value) in options.SessionConfigEntries)
                {
                    sessionOptions.AddSessionConfigEntry(key, value);
                }
            }

            switch (provider)
            {
                case OnnxExecutionProvider.Cuda:
                    sessionOptions.AppendExecutionProvider_CUDA(options.DeviceId);
                    break;
                case OnnxExecutionProvider.TensorRt:
                    sessionOptions.AppendExecutionProvider_Tensorrt(options.DeviceId);
                    sessionOptions.AppendExecutionProvider_CUDA(options.DeviceId);
                    break;
            }

            return sessionOptions;
        }
        catch
        {
            sessionOptions.Dispose();
            throw;
        }
    }

    /// <summary>The session's inputs and outputs must be the manifest's, with the same element types and fixed sizes.</summary>
    private static void CheckInterface(Vlm2VecBundle bundle, string role, InferenceSession session)
    {
        var graph = bundle.Manifest.Graph(role);
        void Compare(IReadOnlyList<Vlm2VecBundleTensor> declared, IReadOnlyDictionary<string, NodeMetadata> actual, string kind)
        {
            foreach (var tensor in declared)
            {
                if (!actual.TryGetValue(tensor.Name, out var metadata))
                {
                    throw new ModelFormatException(
                        $"Model bundle '{bundle.Folder}': the {role} graph has no {kind} '{tensor.Name}' although the manifest lists it; it has {string.Join(", ", actual.Keys)}.");
                }

                var elementType = ElementTypeName(metadata.ElementDataType);
                var dims = metadata.Dimensions;
                var sameShape = dims.Length == tensor.Shape.Count;
                for (var i = 0; sameShape && i < dims.Length; i++)
                {
                    var fixedSize = tensor.FixedSize(i);
                    sameShape = fixedSize is null ? dims[i] < 0 || metadata.SymbolicDimensions[i].Length > 0 : dims[i] == fixedSize;
                }

                if (elementType != tensor.ElementType || !sameShape)
                {
                    throw new ModelFormatException(
                        $"Model bundle '{bundle.Folder}': the {role} graph's {kind} '{tensor.Name}' is {elementType} [{string.Join(", ", dims)}] but the manifest says {tensor.ElementType} {tensor.DescribeShape()}.");
                }
            }

            if (kind == "input" && actual.Count != declared.Count)
            {
                var extra = actual.Keys.Where(k => declared.All(t => t.Name != k));
                throw new ModelFormatException($"Model bundle '{bundle.Folder}': the {role} graph has inputs the manifest does not list: {string.Join(", ", extra)}.");
            }
        }

        Compare(graph.Inputs, session.InputMetadata, "input");
        Compare(graph.Outputs, session.OutputMetadata, "output");
    }

    private static string ElementTypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Float16 => "float16",
        TensorElementType.Int64 => "int64",
        TensorElementType.Int32 => "int32",
        TensorElementType.Bool => "bool",
        _ => type.ToString().ToLowerInvariant(),
    };
}
