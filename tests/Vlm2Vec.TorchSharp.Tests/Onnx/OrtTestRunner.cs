using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Vlm2Vec.TorchSharp.Onnx;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

/// <summary>A named input tensor for <see cref="OrtTestRunner"/>.</summary>
internal sealed record OrtInput(string Name, Array Data, long[] Shape)
{
    public static OrtInput Of(string name, float[] data, params long[] shape) => new(name, data, shape);

    public static OrtInput Of(string name, long[] data, params long[] shape) => new(name, data, shape);

    public static OrtInput Of(string name, int[] data, params long[] shape) => new(name, data, shape);

    public static OrtInput Of(string name, Half[] data, params long[] shape) => new(name, data, shape);
}

/// <summary>One output read back from ORT: float/half outputs as <see cref="Floats"/>, integer outputs as <see cref="Longs"/>.</summary>
internal sealed record OrtOutput(float[] Floats, long[] Longs, long[] Shape, TensorElementType ElementType);

/// <summary>Runs builder graphs on ONNX Runtime's CPU execution provider.</summary>
internal static class OrtTestRunner
{
    /// <summary>Builds the model in memory and runs it once.</summary>
    public static IReadOnlyDictionary<string, OrtOutput> Run(
        OnnxGraphBuilder builder,
        IReadOnlyList<OrtInput> inputs,
        GraphOptimizationLevel optimization = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = optimization, IntraOpNumThreads = 1 };
        using var session = new InferenceSession(builder.ToBytes(), options);
        return Run(session, inputs);
    }

    /// <summary>Runs an open session once and copies every output.</summary>
    public static IReadOnlyDictionary<string, OrtOutput> Run(InferenceSession session, IReadOnlyList<OrtInput> inputs)
    {
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            foreach (var input in inputs)
            {
                values.Add(ToOrtValue(input));
            }

            var names = session.OutputNames;
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, names);
            var result = new Dictionary<string, OrtOutput>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                result[names[i]] = Read(outputs[i]);
            }

            return result;
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    internal static OrtValue ToOrtValue(OrtInput input) => input.Data switch
    {
        float[] f => OrtValue.CreateTensorValueFromMemory(f, input.Shape),
        long[] l => OrtValue.CreateTensorValueFromMemory(l, input.Shape),
        int[] i => OrtValue.CreateTensorValueFromMemory(i, input.Shape),
        Half[] h => OrtValue.CreateTensorValueFromMemory(MemoryMarshal.Cast<Half, Float16>(h).ToArray(), input.Shape),
        bool[] b => OrtValue.CreateTensorValueFromMemory(b, input.Shape),
        _ => throw new ArgumentException($"Unsupported input array type {input.Data.GetType()}"),
    };

    private static OrtOutput Read(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape;
        switch (info.ElementDataType)
        {
            case TensorElementType.Float:
                return new(value.GetTensorDataAsSpan<float>().ToArray(), [], shape, info.ElementDataType);
            case TensorElementType.Float16:
                {
                    var halves = MemoryMarshal.Cast<Float16, Half>(value.GetTensorDataAsSpan<Float16>());
                    var floats = new float[halves.Length];
                    for (var i = 0; i < halves.Length; i++)
                    {
                        floats[i] = (float)halves[i];
                    }

                    return new(floats, [], shape, info.ElementDataType);
                }

            case TensorElementType.Int64:
                return new([], value.GetTensorDataAsSpan<long>().ToArray(), shape, info.ElementDataType);
            case TensorElementType.Int32:
                return new([], value.GetTensorDataAsSpan<int>().ToArray().Select(x => (long)x).ToArray(), shape, info.ElementDataType);
            case TensorElementType.Bool:
                return new([], value.GetTensorDataAsSpan<bool>().ToArray().Select(x => x ? 1L : 0L).ToArray(), shape, info.ElementDataType);
            default:
                throw new NotSupportedException($"Output type {info.ElementDataType} is not read by the test runner.");
        }
    }
}
