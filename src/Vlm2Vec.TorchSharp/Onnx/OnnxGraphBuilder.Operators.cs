using Onnx;
using static Vlm2Vec.TorchSharp.Onnx.OnnxAttributes;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>Typed helpers for ai.onnx operators (opset 21 unless noted); each returns its output's name.</summary>
internal sealed partial class OnnxGraphBuilder
{
    // ---- arithmetic -------------------------------------------------------------------------------------------

    /// <summary><c>a @ b</c> (numpy matmul broadcasting).</summary>
    public string MatMul(string a, string b) => Op("MatMul", [a, b]);

    /// <summary><c>a + b</c>.</summary>
    public string Add(string a, string b) => Op("Add", [a, b]);

    /// <summary><c>a - b</c>.</summary>
    public string Sub(string a, string b) => Op("Sub", [a, b]);

    /// <summary><c>a * b</c>.</summary>
    public string Mul(string a, string b) => Op("Mul", [a, b]);

    /// <summary><c>a / b</c>.</summary>
    public string Div(string a, string b) => Op("Div", [a, b]);

    /// <summary><c>-x</c>.</summary>
    public string Neg(string x) => Op("Neg", [x]);

    /// <summary><c>√x</c>.</summary>
    public string Sqrt(string x) => Op("Sqrt", [x]);

    /// <summary><c>1 / x</c>.</summary>
    public string Reciprocal(string x) => Op("Reciprocal", [x]);

    /// <summary><c>σ(x)</c>.</summary>
    public string Sigmoid(string x) => Op("Sigmoid", [x]);

    /// <summary><c>erf(x)</c>.</summary>
    public string Erf(string x) => Op("Erf", [x]);

    /// <summary><c>cos(x)</c>.</summary>
    public string Cos(string x) => Op("Cos", [x]);

    /// <summary><c>sin(x)</c>.</summary>
    public string Sin(string x) => Op("Sin", [x]);

    /// <summary>Element-wise maximum.</summary>
    public string Max(string a, string b) => Op("Max", [a, b]);

    /// <summary>Element-wise minimum.</summary>
    public string Min(string a, string b) => Op("Min", [a, b]);

    /// <summary><c>a == b</c> (bool).</summary>
    public string Equal(string a, string b) => Op("Equal", [a, b]);

    /// <summary><c>a &lt; b</c> (bool).</summary>
    public string Less(string a, string b) => Op("Less", [a, b]);

    /// <summary><c>a &lt;= b</c> (bool).</summary>
    public string LessOrEqual(string a, string b) => Op("LessOrEqual", [a, b]);

    /// <summary><c>a &gt;= b</c> (bool).</summary>
    public string GreaterOrEqual(string a, string b) => Op("GreaterOrEqual", [a, b]);

    /// <summary>Logical and.</summary>
    public string And(string a, string b) => Op("And", [a, b]);

    /// <summary><c>condition ? whenTrue : whenFalse</c>.</summary>
    public string Where(string condition, string whenTrue, string whenFalse) => Op("Where", [condition, whenTrue, whenFalse]);

    /// <summary>Converts to <paramref name="to"/>.</summary>
    public string Cast(string x, DataType to) => Op("Cast", [x], Int("to", (long)to));

    // ---- shape ------------------------------------------------------------------------------------------------

    /// <summary>The shape of <paramref name="x"/> as int64 (dims <paramref name="start"/>..<paramref name="end"/>).</summary>
    public string Shape(string x, long? start = null, long? end = null)
    {
        var attributes = new List<AttributeProto>(2);
        if (start is not null)
        {
            attributes.Add(Int("start", start.Value));
        }

        if (end is not null)
        {
            attributes.Add(Int("end", end.Value));
        }

        return Op("Shape", [x], [.. attributes]);
    }

    /// <summary>Reshape to a constant shape (0 copies the input dim, -1 infers one dim).</summary>
    public string Reshape(string x, params ReadOnlySpan<long> shape) => Op("Reshape", [x, Int64Constant(shape)]);

    /// <summary>Reshape to a shape computed in the graph (<c>allowzero = 1</c>: a 0 in the shape is a real empty
    /// dimension, e.g. zero patches in a text-only batch, not "copy the input's dimension").</summary>
    public string ReshapeTo(string x, string shape) => Op("Reshape", [x, shape], Int("allowzero", 1));

    /// <summary>Permutes axes.</summary>
    public string Transpose(string x, params ReadOnlySpan<long> perm) => Op("Transpose", [x], Ints("perm", perm));

    /// <summary>Concatenates along <paramref name="axis"/>.</summary>
    public string Concat(long axis, params string[] inputs) => Op("Concat", inputs, Int("axis", axis));

    /// <summary>Splits along <paramref name="axis"/> into pieces of the given sizes.</summary>
    public string[] Split(string x, long axis, params ReadOnlySpan<long> sizes) =>
        AddNode("Split", [x, Int64Constant(sizes)], sizes.Length, [Int("axis", axis)]);

    /// <summary>Slices with constant starts/ends/axes (steps 1).</summary>
    public string Slice(string x, ReadOnlySpan<long> starts, ReadOnlySpan<long> ends, ReadOnlySpan<long> axes) =>
        Op("Slice", [x, Int64Constant(starts), Int64Constant(ends), Int64Constant(axes)]);

    /// <summary>Inserts size-1 axes.</summary>
    public string Unsqueeze(string x, params ReadOnlySpan<long> axes) => Op("Unsqueeze", [x, Int64Constant(axes)]);

    /// <summary>Removes size-1 axes.</summary>
    public string Squeeze(string x, params ReadOnlySpan<long> axes) => Op("Squeeze", [x, Int64Constant(axes)]);

    /// <summary>Broadcasts to a shape computed in the graph.</summary>
    public string Expand(string x, string shape) => Op("Expand", [x, shape]);

    /// <summary><c>[start, limit)</c> by <paramref name="delta"/> (all scalars of one type).</summary>
    public string Range(string start, string limit, string delta) => Op("Range", [start, limit, delta]);

    /// <summary>Cumulative sum along a constant axis.</summary>
    public string CumSum(string x, long axis) => Op("CumSum", [x, Int64Scalar(axis)]);

    /// <summary>Indices of non-zero elements, shape (rank, count), in row-major order.</summary>
    public string NonZero(string x) => Op("NonZero", [x]);

    // ---- indexing ---------------------------------------------------------------------------------------------

    /// <summary><c>data.take(indices, axis)</c>.</summary>
    public string Gather(string data, string indices, long axis = 0) => Op("Gather", [data, indices], Int("axis", axis));

    /// <summary>GatherND with <paramref name="batchDims"/> leading batch dimensions.</summary>
    public string GatherND(string data, string indices, long batchDims = 0) => Op("GatherND", [data, indices], Int("batch_dims", batchDims));

    /// <summary>Copy of <paramref name="data"/> with the slices at <paramref name="indices"/> replaced by <paramref name="updates"/>.</summary>
    public string ScatterND(string data, string indices, string updates) => Op("ScatterND", [data, indices, updates]);

    // ---- reductions and normalisation ------------------------------------------------------------------------

    /// <summary>Mean over constant axes.</summary>
    public string ReduceMean(string x, ReadOnlySpan<long> axes, bool keepDims = true) =>
        Op("ReduceMean", [x, Int64Constant(axes)], Int("keepdims", keepDims ? 1 : 0));

    /// <summary>Sum over constant axes.</summary>
    public string ReduceSum(string x, ReadOnlySpan<long> axes, bool keepDims = true) =>
        Op("ReduceSum", [x, Int64Constant(axes)], Int("keepdims", keepDims ? 1 : 0));

    /// <summary>Maximum over constant axes.</summary>
    public string ReduceMax(string x, ReadOnlySpan<long> axes, bool keepDims = true) =>
        Op("ReduceMax", [x, Int64Constant(axes)], Int("keepdims", keepDims ? 1 : 0));

    /// <summary>Minimum over constant axes.</summary>
    public string ReduceMin(string x, ReadOnlySpan<long> axes, bool keepDims = true) =>
        Op("ReduceMin", [x, Int64Constant(axes)], Int("keepdims", keepDims ? 1 : 0));

    /// <summary>Euclidean norm over constant axes.</summary>
    public string ReduceL2(string x, ReadOnlySpan<long> axes, bool keepDims = true) =>
        Op("ReduceL2", [x, Int64Constant(axes)], Int("keepdims", keepDims ? 1 : 0));

    /// <summary>Index of the maximum; with <paramref name="selectLastIndex"/> ties go to the last position.</summary>
    public string ArgMax(string x, long axis, bool keepDims = true, bool selectLastIndex = false) =>
        Op("ArgMax", [x], Int("axis", axis), Int("keepdims", keepDims ? 1 : 0), Int("select_last_index", selectLastIndex ? 1 : 0));

    /// <summary>Softmax along <paramref name="axis"/>.</summary>
    public string Softmax(string x, long axis = -1) => Op("Softmax", [x], Int("axis", axis));

    /// <summary>Lp normalisation along an axis (no epsilon clamp).</summary>
    public string LpNormalization(string x, long axis = -1, long p = 2) => Op("LpNormalization", [x], Int("axis", axis), Int("p", p));

    /// <summary>ai.onnx LayerNormalization (opset 17+) over the last axis, statistics in float32.</summary>
    public string LayerNormalization(string x, string scale, string? bias, float epsilon) =>
        Op("LayerNormalization", [x, scale, bias ?? string.Empty], Int("axis", -1), Float("epsilon", epsilon), Int("stash_type", 1));

    /// <summary>
    /// RMS normalisation <c>x / √(mean(x²) + ε) · scale</c> over the last axis with float32 statistics, as ORT's
    /// <c>SimplifiedLayerNormalization</c> (registered by ORT in the ai.onnx domain; what onnxruntime-genai emits).
    /// </summary>
    public string SimplifiedLayerNormalization(string x, string scale, float epsilon) =>
        Op("SimplifiedLayerNormalization", [x, scale], Int("axis", -1), Float("epsilon", epsilon), Int("stash_type", 1));

    /// <summary>ai.onnx RMSNormalization (opset 23+).</summary>
    public string RmsNormalization(string x, string scale, float epsilon)
    {
        RequireOpset(23, "RMSNormalization");
        return Op("RMSNormalization", [x, scale], Int("axis", -1), Float("epsilon", epsilon), Int("stash_type", 1));
    }

    /// <summary>ai.onnx Gelu (opset 20+); <paramref name="approximate"/> "none" is the exact erf form.</summary>
    public string Gelu(string x, string approximate = "none")
    {
        RequireOpset(20, "Gelu");
        return Op("Gelu", [x], String("approximate", approximate));
    }

    /// <summary>Throws when the model's ai.onnx opset is older than an operator needs.</summary>
    public void RequireOpset(int version, string opType)
    {
        if (Options.OpsetVersion < version)
        {
            throw new InvalidOperationException($"{opType} needs ai.onnx opset {version}; this graph imports opset {Options.OpsetVersion}.");
        }
    }
}
