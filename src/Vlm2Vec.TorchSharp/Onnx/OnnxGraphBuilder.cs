using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>
/// Writes an ONNX graph op by op, the way onnxruntime-genai's model builder does: typed graph inputs and outputs with
/// symbolic dimensions, initializers whose bytes are produced only when the model is written (see
/// <see cref="OnnxModelWriter"/>), nodes with unique, scoped names (<c>/model/layers.3/attn/MatMul</c>) whose outputs
/// are named after them (<c>…/MatMul/output_0</c>), optional value-info and metadata. Every helper returns the name of
/// the value it produced, so a block reads like the formula it computes. Inputs are checked as nodes are added: a node
/// may only read a graph input, an initializer or the output of an earlier node, so the graph is always in topological
/// order.
/// </summary>
internal sealed partial class OnnxGraphBuilder
{
    /// <summary>The domain of ONNX Runtime's contrib operators.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    private readonly GraphProto _graph;
    private readonly HashSet<string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _nameCounters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly List<OnnxInitializer> _initializers = [];
    private readonly List<KeyValuePair<string, string>> _metadata = [];
    private readonly List<string> _scopes = [];

    /// <summary>Creates an empty graph.</summary>
    public OnnxGraphBuilder(OnnxGraphBuilderOptions? options = null)
    {
        Options = options ?? new OnnxGraphBuilderOptions();
        _graph = new GraphProto { Name = Options.GraphName };
    }

    /// <summary>The model-level settings.</summary>
    public OnnxGraphBuilderOptions Options { get; }

    /// <summary>The initializers added so far, in order.</summary>
    public IReadOnlyList<OnnxInitializer> Initializers => _initializers;

    /// <summary>Number of nodes added so far.</summary>
    public int NodeCount => _graph.Node.Count;

    /// <summary>The nodes added so far (read-only use: inspection, tests).</summary>
    public IReadOnlyList<NodeProto> Nodes => _graph.Node;

    /// <summary>Whether <paramref name="name"/> is a value of the graph (input, initializer or node output).</summary>
    public bool HasValue(string name) => _values.Contains(name);

    /// <summary>Declares a graph input and returns its name.</summary>
    public string AddInput(string name, DataType type, ReadOnlySpan<OnnxDimension> shape, string? docString = null)
    {
        ClaimValueName(name);
        var input = MakeValueInfo(name, type, shape);
        input.DocString = docString ?? string.Empty;
        _graph.Input.Add(input);
        return name;
    }

    /// <summary>
    /// Declares <paramref name="value"/> as a graph output named <paramref name="name"/> (the value's own name when
    /// omitted). When the names differ an <c>Identity</c> node is inserted, so helpers never need to know which of
    /// their results end up as outputs.
    /// </summary>
    public string AddOutput(string value, DataType type, ReadOnlySpan<OnnxDimension> shape, string? name = null, string? docString = null)
    {
        RequireValue(value, "graph output");
        var outputName = name ?? value;
        if (outputName != value)
        {
            AddNode("Identity", [value], outputNames: [outputName]);
        }

        var output = MakeValueInfo(outputName, type, shape);
        output.DocString = docString ?? string.Empty;
        _graph.Output.Add(output);
        return outputName;
    }

    /// <summary>Records the type and shape of an intermediate value (helps tools and shape inference; optional).</summary>
    public void SetValueInfo(string value, DataType type, ReadOnlySpan<OnnxDimension> shape)
    {
        RequireValue(value, "value info");
        _graph.ValueInfo.Add(MakeValueInfo(value, type, shape));
    }

    /// <summary>Adds a <c>metadata_props</c> entry to the model (read back with ORT's <c>ModelMetadata.CustomMetadataMap</c>).</summary>
    public void AddMetadata(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        foreach (var entry in _metadata)
        {
            if (entry.Key == key)
            {
                throw new ArgumentException($"Metadata key '{key}' was already added.", nameof(key));
            }
        }

        _metadata.Add(new(key, value));
    }

    /// <summary>
    /// Opens a naming scope: nodes created until the returned handle is disposed are named <c>/{outer}/{name}/{Op}</c>.
    /// </summary>
    public IDisposable Scope(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _scopes.Add(name.Trim('/'));
        return new ScopeHandle(this, _scopes.Count);
    }

    /// <summary>Adds a float initializer stored as <paramref name="storeAs"/> (<see cref="DataType.Float"/> or
    /// <see cref="DataType.Float16"/>) and returns its name.</summary>
    public string AddInitializer(string name, ReadOnlyMemory<float> values, ReadOnlySpan<long> dims, DataType storeAs = DataType.Float)
    {
        CheckElementCount(name, values.Length, dims);
        return AddInitializer(name, dims, OnnxTensorData.FromFloats(() => values, values.Length, storeAs));
    }

    /// <summary>Adds a float16 initializer.</summary>
    public string AddInitializer(string name, ReadOnlyMemory<Half> values, ReadOnlySpan<long> dims)
    {
        CheckElementCount(name, values.Length, dims);
        return AddInitializer(name, dims, OnnxTensorData.FromRaw(values, DataType.Float16));
    }

    /// <summary>Adds an int64 initializer.</summary>
    public string AddInitializer(string name, ReadOnlyMemory<long> values, ReadOnlySpan<long> dims)
    {
        CheckElementCount(name, values.Length, dims);
        return AddInitializer(name, dims, OnnxTensorData.FromRaw(values, DataType.Int64));
    }

    /// <summary>Adds an int32 initializer.</summary>
    public string AddInitializer(string name, ReadOnlyMemory<int> values, ReadOnlySpan<long> dims)
    {
        CheckElementCount(name, values.Length, dims);
        return AddInitializer(name, dims, OnnxTensorData.FromRaw(values, DataType.Int32));
    }

    /// <summary>Adds a uint8 initializer (quantized weight codes, zero points).</summary>
    public string AddInitializer(string name, ReadOnlyMemory<byte> values, ReadOnlySpan<long> dims)
    {
        CheckElementCount(name, values.Length, dims);
        return AddInitializer(name, dims, OnnxTensorData.FromRaw(values, DataType.Uint8));
    }

    /// <summary>Adds an int8 initializer (quantized weight codes).</summary>
    public string AddInitializer(string name, ReadOnlyMemory<sbyte> values, ReadOnlySpan<long> dims)
    {
        CheckElementCount(name, values.Length, dims);
        return AddInitializer(name, dims, OnnxTensorData.FromRaw(values, DataType.Int8));
    }

    /// <summary>
    /// Adds an initializer of a fixed-size element type (uint8 weight codes, float32 scales) stored exactly as
    /// <paramref name="load"/> produces it, fetched only while the model is being written (see
    /// <see cref="AddDeferredInitializer(string, ReadOnlySpan{long}, DataType, Func{ReadOnlyMemory{float}})"/>).
    /// </summary>
    public string AddDeferredRawInitializer<T>(string name, ReadOnlySpan<long> dims, DataType storedType, Func<ReadOnlyMemory<T>> load)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(load);
        if (OnnxTypes.ElementSize(storedType) != System.Runtime.CompilerServices.Unsafe.SizeOf<T>())
        {
            throw new ArgumentException($"{typeof(T).Name} values cannot be stored as {storedType}.", nameof(storedType));
        }

        return AddInitializer(name, dims, OnnxTensorData.FromDeferredRaw(load, ElementCount(dims), storedType));
    }

    /// <summary>
    /// Adds a float initializer whose values are fetched by <paramref name="load"/> only while the model is being
    /// written, then released: an exporter can stream a multi-gigabyte model without a second copy in memory.
    /// </summary>
    public string AddDeferredInitializer(string name, ReadOnlySpan<long> dims, DataType storeAs, Func<ReadOnlyMemory<float>> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        return AddInitializer(name, dims, OnnxTensorData.FromFloats(load, ElementCount(dims), storeAs));
    }

    /// <summary>A 1-D int64 constant (shapes, axes, indices), shared between all nodes that use the same values; always
    /// stored inline (see <see cref="OnnxInitializer.KeepInline"/>).</summary>
    public string Int64Constant(params ReadOnlySpan<long> values)
    {
        var copy = values.ToArray();
        var key = "/constants/INT64/[" + string.Join(',', copy) + "]";
        return Constant(key, () => AddInitializer(key, [copy.Length], OnnxTensorData.FromRaw<long>(copy, DataType.Int64), keepInline: true));
    }

    /// <summary>A 0-D int64 constant, shared.</summary>
    public string Int64Scalar(long value)
    {
        var key = FormattableString.Invariant($"/constants/INT64/{value}");
        return Constant(key, () => AddInitializer(key, [], OnnxTensorData.FromRaw<long>(new[] { value }, DataType.Int64), keepInline: true));
    }

    /// <summary>A 0-D int32 constant, shared.</summary>
    public string Int32Scalar(int value)
    {
        var key = FormattableString.Invariant($"/constants/INT32/{value}");
        return Constant(key, () => AddInitializer(key, [], OnnxTensorData.FromRaw<int>(new[] { value }, DataType.Int32), keepInline: true));
    }

    /// <summary>A 0-D float constant stored as <paramref name="type"/> (float or float16), shared.</summary>
    public string FloatScalar(float value, DataType type = DataType.Float)
    {
        var key = FormattableString.Invariant($"/constants/{OnnxTypes.ShortName(type).ToUpperInvariant()}/{value:R}");
        return Constant(key, () => AddInitializer(key, [], OnnxTensorData.FromFloats(() => new[] { value }, 1, type), keepInline: true));
    }

    /// <summary>
    /// Adds a node and returns the names of its outputs. Empty strings in <paramref name="inputs"/> stand for omitted
    /// optional inputs (trailing ones are dropped). Output names default to <c>{nodeName}/output_{i}</c>; pass
    /// <paramref name="outputNames"/> to choose them: <see langword="null"/> keeps the default name, "" leaves an
    /// optional output unused. The returned array has "" for unused outputs.
    /// </summary>
    public string[] AddNode(
        string opType,
        IReadOnlyList<string> inputs,
        int outputCount = 1,
        IReadOnlyList<AttributeProto>? attributes = null,
        string domain = "",
        string? name = null,
        IReadOnlyList<string?>? outputNames = null,
        string? docString = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        var nodeName = UniqueNodeName(name ?? opType);
        var node = new NodeProto { OpType = opType, Name = nodeName, Domain = domain, DocString = docString ?? string.Empty };

        var lastUsed = inputs.Count - 1;
        while (lastUsed >= 0 && inputs[lastUsed].Length == 0)
        {
            lastUsed--;
        }

        for (var i = 0; i <= lastUsed; i++)
        {
            if (inputs[i].Length > 0)
            {
                RequireValue(inputs[i], $"input {i} of {opType} node '{nodeName}'");
            }

            node.Input.Add(inputs[i]);
        }

        var outputs = new string[outputNames?.Count ?? outputCount];
        for (var i = 0; i < outputs.Length; i++)
        {
            outputs[i] = outputNames?[i] ?? FormattableString.Invariant($"{nodeName}/output_{i}");
            if (outputs[i].Length > 0)
            {
                ClaimValueName(outputs[i]);
            }

            node.Output.Add(outputs[i]);
        }

        if (attributes is not null)
        {
            node.Attribute.AddRange(attributes);
        }

        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>Adds an ai.onnx node with one output and returns that output's name.</summary>
    public string Op(string opType, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        AddNode(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a com.microsoft node with one output and returns that output's name.</summary>
    public string MicrosoftOp(string opType, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        AddNode(opType, inputs, 1, attributes, MicrosoftDomain)[0];

    /// <summary>
    /// Builds the model. <paramref name="storeInitializer"/> turns each initializer into its <see cref="TensorProto"/>
    /// (inline bytes or an external-data reference); it is called in order, once per initializer.
    /// </summary>
    internal ModelProto ToModelProto(Func<OnnxInitializer, TensorProto> storeInitializer)
    {
        var graph = _graph.Clone();
        foreach (var initializer in _initializers)
        {
            graph.Initializer.Add(storeInitializer(initializer));
        }

        var model = new ModelProto
        {
            IrVersion = Options.EffectiveIrVersion,
            ProducerName = Options.ProducerName,
            ProducerVersion = Options.ProducerVersion,
            DocString = Options.DocString ?? string.Empty,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Options.OpsetVersion });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = Options.MicrosoftOpsetVersion });
        foreach (var (key, value) in _metadata)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model;
    }

    /// <summary>Serializes the whole model into memory with every initializer inline (small models and tests; the
    /// protobuf limit makes this fail above 2 GB — use <see cref="OnnxModelWriter.Write"/> for real models).</summary>
    public byte[] ToBytes()
    {
        var model = ToModelProto(static initializer =>
        {
            var tensor = initializer.CreateTensorHeader();
            tensor.RawData = ByteString.CopyFrom(initializer.Data.ToArray());
            return tensor;
        });
        return model.ToByteArray();
    }

    private string AddInitializer(string name, ReadOnlySpan<long> dims, OnnxTensorData data, bool keepInline = false)
    {
        ClaimValueName(name);
        _initializers.Add(new OnnxInitializer(name, dims.ToArray(), data, keepInline));
        return name;
    }

    private string Constant(string key, Func<string> create)
    {
        if (!_constants.TryGetValue(key, out var name))
        {
            name = create();
            _constants.Add(key, name);
        }

        return name;
    }

    private static void CheckElementCount(string name, long count, ReadOnlySpan<long> dims)
    {
        var expected = ElementCount(dims);
        if (expected != count)
        {
            throw new ArgumentException(
                $"Initializer '{name}' has {count} values but its shape [{string.Join(", ", dims.ToArray())}] needs {expected}.", nameof(dims));
        }
    }

    private static long ElementCount(ReadOnlySpan<long> dims)
    {
        long count = 1;
        foreach (var dim in dims)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dim, nameof(dims));
            count = checked(count * dim);
        }

        return count;
    }

    private void ClaimValueName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_values.Add(name))
        {
            throw new ArgumentException($"The graph already has a value named '{name}'.", nameof(name));
        }
    }

    private void RequireValue(string name, string role)
    {
        if (!_values.Contains(name))
        {
            throw new ArgumentException(
                $"'{name}' ({role}) is not a graph input, an initializer or the output of an earlier node.", nameof(name));
        }
    }

    private string UniqueNodeName(string baseName)
    {
        var scoped = baseName.StartsWith('/') || _scopes.Count == 0
            ? (baseName.StartsWith('/') ? baseName : "/" + baseName)
            : "/" + string.Join('/', _scopes) + "/" + baseName;
        if (_nodeNames.Add(scoped))
        {
            return scoped;
        }

        var counter = _nameCounters.GetValueOrDefault(scoped);
        string candidate;
        do
        {
            counter++;
            candidate = FormattableString.Invariant($"{scoped}_{counter}");
        }
        while (!_nodeNames.Add(candidate));

        _nameCounters[scoped] = counter;
        return candidate;
    }

    private static ValueInfoProto MakeValueInfo(string name, DataType type, ReadOnlySpan<OnnxDimension> shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var dim in shape)
        {
            tensorShape.Dim.Add(dim.Symbol is null
                ? new TensorShapeProto.Types.Dimension { DimValue = dim.Size!.Value }
                : new TensorShapeProto.Types.Dimension { DimParam = dim.Symbol });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }

    private sealed class ScopeHandle(OnnxGraphBuilder owner, int depth) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            if (owner._scopes.Count != depth)
            {
                throw new InvalidOperationException("Naming scopes must be closed in the reverse order they were opened.");
            }

            owner._scopes.RemoveAt(depth - 1);
            _disposed = true;
        }
    }
}
