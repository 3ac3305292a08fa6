using Vlm2Vec.TorchSharp.Onnx;
using static global::TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Export;

/// <summary>
/// The state dict as the graphs need it: each weight is added to the graph as a deferred initializer whose float32 values
/// (transposed for MatMul, projections concatenated where the graph fuses them) are produced only while that tensor is
/// written, then dropped, so an export holds the checkpoint plus one converted tensor at a time. Weights of any float
/// dtype (bf16 checkpoints included) are converted to float32 first; the writer then stores float32 or float16, or, for
/// the int8 bundle's projections, int8 codes and float32 scales computed from those float32 values.
/// </summary>
internal sealed class ExportWeights(IReadOnlyDictionary<string, Tensor> stateDict, DataType storeAs)
{
    /// <summary>The dtype weights are stored in.</summary>
    public DataType StoreAs { get; } = storeAs;

    /// <summary>A tensor as-is (norm weights, biases, the embedding table), under its own name.</summary>
    public string Tensor(OnnxGraphBuilder g, string name) => Tensor(g, name, StoreAs);

    /// <summary>A tensor as-is, stored in <paramref name="storeAs"/> rather than the bundle's dtype.</summary>
    public string Tensor(OnnxGraphBuilder g, string name, DataType storeAs)
    {
        if (g.HasValue(name))
        {
            return name;
        }

        var source = Get(name);
        return g.AddDeferredInitializer(name, source.shape, storeAs, () => Floats(source));
    }

    /// <summary>Concatenated 1-D tensors (fused projection biases), stored as <paramref name="name"/>.</summary>
    public string ConcatenatedVector(OnnxGraphBuilder g, string name, params string[] parts)
    {
        if (g.HasValue(name))
        {
            return name;
        }

        var sources = parts.Select(Get).ToArray();
        long length = sources.Sum(s => s.shape[0]);
        return g.AddDeferredInitializer(name, [length], StoreAs, () =>
        {
            using var scope = NewDisposeScope();
            return Floats(cat(sources, 0));
        });
    }

    /// <summary>
    /// Linear weights <c>(out, in)</c>, concatenated along <c>out</c> when several are given, stored transposed as
    /// <c>(in, Σ out)</c> for <c>MatMul</c>. Conv kernels are flattened to <c>(out, in·k…)</c> first.
    /// </summary>
    public string Linear(OnnxGraphBuilder g, string name, params string[] parts)
    {
        var stored = name + ".T";
        if (g.HasValue(stored))
        {
            return stored;
        }

        var sources = (parts.Length == 0 ? [name] : parts).Select(Get).ToArray();
        var inFeatures = sources[0].numel() / sources[0].shape[0];
        long outFeatures = sources.Sum(s => s.shape[0]);
        return g.AddDeferredInitializer(stored, [inFeatures, outFeatures], StoreAs, () =>
        {
            using var scope = NewDisposeScope();
            var matrices = sources.Select(s => s.reshape(s.shape[0], -1)).ToArray();
            var joined = matrices.Length == 1 ? matrices[0] : cat(matrices, 0);
            return Floats(joined.t());
        });
    }

    /// <summary>
    /// Linear weights as in <see cref="Linear"/>, quantized to int8 per output channel for <c>DynamicQuantizeMatMul</c>
    /// (<see cref="PerChannelInt8Quantizer"/>): codes <c>(in, Σ out)</c> int8 stored as <paramref name="name"/>.int8 and
    /// scales <c>(Σ out)</c> float32 as <paramref name="name"/>.scale, both computed from the float32 weights while written.
    /// </summary>
    public (string Codes, string Scales) Int8Linear(OnnxGraphBuilder g, string name, params string[] parts)
    {
        var codesName = name + ".int8";
        var scalesName = name + ".scale";
        if (g.HasValue(codesName))
        {
            return (codesName, scalesName);
        }

        var sources = (parts.Length == 0 ? [name] : parts).Select(Get).ToArray();
        var inFeatures = sources[0].numel() / sources[0].shape[0];
        long outFeatures = sources.Sum(s => s.shape[0]);
        int n = checked((int)outFeatures), k = checked((int)inFeatures);
        ReadOnlyMemory<float> Rows()
        {
            using var scope = NewDisposeScope();
            var matrices = sources.Select(s => s.reshape(s.shape[0], -1)).ToArray();
            return Floats(matrices.Length == 1 ? matrices[0] : cat(matrices, 0));
        }

        // Each initializer recomputes the scales from the float32 rows (cheap next to writing), so nothing is held
        // between the two writes.
        g.AddDeferredRawInitializer<sbyte>(codesName, [inFeatures, outFeatures], DataType.Int8, () =>
        {
            var rows = Rows().Span;
            return PerChannelInt8Quantizer.TransposedCodes(rows, PerChannelInt8Quantizer.Scales(rows, n, k), n, k);
        });
        g.AddDeferredRawInitializer<float>(scalesName, [outFeatures], DataType.Float, () => PerChannelInt8Quantizer.Scales(Rows().Span, n, k));
        return (codesName, scalesName);
    }

    /// <summary>The shape of a weight.</summary>
    public long[] Shape(string name) => Get(name).shape;

    private Tensor Get(string name) =>
        stateDict.TryGetValue(name, out var tensor)
            ? tensor
            : throw new ModelFormatException($"The model has no weight '{name}', which the Qwen2-VL graph needs.");

    private static ReadOnlyMemory<float> Floats(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var values = tensor.to(ScalarType.Float32).contiguous();
        return values.data<float>().ToArray();
    }
}
