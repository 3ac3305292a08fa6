using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Onnx;

namespace Vlm2Vec.TorchSharp.Onnx;

/// <summary>
/// The bytes of one initializer, produced only when the model is written (so an exporter can hand over weights
/// layer by layer without holding a second copy of the model in memory). Little-endian, as ONNX requires.
/// </summary>
internal abstract class OnnxTensorData
{
    /// <summary>Elements converted per chunk when the stored type differs from the source type.</summary>
    private protected const int ConversionChunkElements = 1 << 20;

    /// <summary>Bytes written per call, so progress can be reported inside very large tensors.</summary>
    private protected const int WriteChunkBytes = 16 << 20;

    protected OnnxTensorData(TensorProto.Types.DataType storedType, long elementCount)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX tensor data is little-endian; big-endian hosts are not supported.");
        }

        StoredType = storedType;
        ElementCount = elementCount;
    }

    /// <summary>The element type written to the file.</summary>
    public TensorProto.Types.DataType StoredType { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount { get; }

    /// <summary>Number of bytes written.</summary>
    public long ByteLength => ElementCount * OnnxTypes.ElementSize(StoredType);

    /// <summary>Writes the bytes to <paramref name="destination"/>, calling <paramref name="onBytesWritten"/> after each chunk.</summary>
    public abstract void WriteTo(Stream destination, Action<long> onBytesWritten, CancellationToken cancellationToken);

    /// <summary>Float data stored as float32 or float16 (converted chunk by chunk, round-to-nearest-even).</summary>
    public static OnnxTensorData FromFloats(Func<ReadOnlyMemory<float>> source, long elementCount, TensorProto.Types.DataType storeAs) =>
        new FloatData(source, elementCount, storeAs);

    /// <summary>Data written as-is (float16, int64, int32, bool as bytes...).</summary>
    public static OnnxTensorData FromRaw<T>(ReadOnlyMemory<T> source, TensorProto.Types.DataType storedType)
        where T : unmanaged =>
        new RawData<T>(source, storedType);

    /// <summary>Data of a fixed-size element type (uint8 codes, float scales...) produced by <paramref name="source"/> only
    /// while the tensor is written, then dropped.</summary>
    public static OnnxTensorData FromDeferredRaw<T>(Func<ReadOnlyMemory<T>> source, long elementCount, TensorProto.Types.DataType storedType)
        where T : unmanaged =>
        new DeferredRawData<T>(source, elementCount, storedType);

    /// <summary>Copies the bytes into one array (inline initializers; small tensors only).</summary>
    public byte[] ToArray()
    {
        if (ByteLength > Array.MaxLength)
        {
            throw new InvalidOperationException($"A {ByteLength}-byte tensor cannot be stored inline; write it as external data.");
        }

        using var memory = new MemoryStream((int)ByteLength);
        WriteTo(memory, static _ => { }, CancellationToken.None);
        return memory.ToArray();
    }

    private protected static void WriteBytes(Stream destination, ReadOnlySpan<byte> bytes, Action<long> onBytesWritten, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = bytes[..Math.Min(bytes.Length, WriteChunkBytes)];
            destination.Write(chunk);
            onBytesWritten(chunk.Length);
            bytes = bytes[chunk.Length..];
        }
    }

    private sealed class RawData<T>(ReadOnlyMemory<T> source, TensorProto.Types.DataType storedType)
        : OnnxTensorData(storedType, source.Length)
        where T : unmanaged
    {
        public override void WriteTo(Stream destination, Action<long> onBytesWritten, CancellationToken cancellationToken) =>
            WriteBytes(destination, MemoryMarshal.AsBytes(source.Span), onBytesWritten, cancellationToken);
    }

    private sealed class DeferredRawData<T>(Func<ReadOnlyMemory<T>> source, long elementCount, TensorProto.Types.DataType storedType)
        : OnnxTensorData(storedType, elementCount)
        where T : unmanaged
    {
        public override void WriteTo(Stream destination, Action<long> onBytesWritten, CancellationToken cancellationToken)
        {
            var values = source();
            if (values.Length != ElementCount)
            {
                throw new InvalidOperationException($"The tensor source produced {values.Length} values; its shape needs {ElementCount}.");
            }

            WriteBytes(destination, MemoryMarshal.AsBytes(values.Span), onBytesWritten, cancellationToken);
        }
    }

    private sealed class FloatData : OnnxTensorData
    {
        private readonly Func<ReadOnlyMemory<float>> _source;

        public FloatData(Func<ReadOnlyMemory<float>> source, long elementCount, TensorProto.Types.DataType storeAs)
            : base(storeAs, elementCount)
        {
            if (storeAs is not (TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Float16))
            {
                throw new ArgumentOutOfRangeException(nameof(storeAs), storeAs, "Float weights can be stored as Float or Float16.");
            }

            _source = source;
        }

        public override void WriteTo(Stream destination, Action<long> onBytesWritten, CancellationToken cancellationToken)
        {
            var values = _source();
            if (values.Length != ElementCount)
            {
                throw new InvalidOperationException($"The tensor source produced {values.Length} values; its shape needs {ElementCount}.");
            }

            if (StoredType == TensorProto.Types.DataType.Float)
            {
                WriteBytes(destination, MemoryMarshal.AsBytes(values.Span), onBytesWritten, cancellationToken);
                return;
            }

            var buffer = ArrayPool<Half>.Shared.Rent(Math.Min(values.Length, ConversionChunkElements));
            try
            {
                for (var start = 0; start < values.Length; start += ConversionChunkElements)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var chunk = values.Span.Slice(start, Math.Min(ConversionChunkElements, values.Length - start));
                    var halves = buffer.AsSpan(0, chunk.Length);
                    TensorPrimitives.ConvertToHalf(chunk, halves);
                    WriteBytes(destination, MemoryMarshal.AsBytes(halves), onBytesWritten, cancellationToken);
                }
            }
            finally
            {
                ArrayPool<Half>.Shared.Return(buffer);
            }
        }
    }
}
