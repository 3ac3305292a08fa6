using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>
/// A <c>.safetensors</c> file: the validated header (tensor names, dtypes, shapes, offsets and <c>__metadata__</c>),
/// tensor reads straight from the file into tensor memory, and atomic writes.
/// </summary>
/// <remarks>
/// Written here rather than taken from TorchSharp.PyBridge's <c>Safetensors</c> class because that one (1.4.4) does not
/// validate the header (a truncated or corrupt file fails with an unrelated exception or reads garbage), does not expose
/// <c>__metadata__</c> or read single tensors, cannot convert dtypes one tensor at a time, and writes through
/// <c>File.OpenWrite</c> without <c>__metadata__</c> (no <c>"format": "pt"</c>, which transformers requires) and without
/// truncating an existing longer file. Reads here go from the file into the tensor's own native memory
/// (<see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/> into <c>Tensor.bytes</c>), so a multi-GB shard is never
/// held twice.
/// </remarks>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>The largest header accepted (the limit of the reference Rust implementation: 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Bytes read or written per call; keeps every span below the 2 GB limit of <see cref="Span{T}"/>.</summary>
    private const long ChunkBytes = 1L << 28;

    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private readonly long _dataStart;

    private SafetensorsFile(string path, SafeFileHandle handle, long dataStart, IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        FilePath = path;
        _handle = handle;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, SafetensorsTensorInfo>(tensors.Count, StringComparer.Ordinal);
        foreach (var info in tensors)
        {
            _byName.Add(info.Name, info);
        }
    }

    /// <summary>The file's path.</summary>
    public string FilePath { get; }

    /// <summary>The tensors, in the order their bytes appear in the file.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens a file and validates its header against the file length.</summary>
    /// <exception cref="ModelFormatException">Missing, truncated, or not a valid safetensors file.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"Safetensors file '{path}' does not exist.");
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var (dataStart, tensors, metadata) = ReadHeader(path, handle);
            return new SafetensorsFile(path, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file holds a tensor of this name.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of one tensor.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    public SafetensorsTensorInfo GetInfo(string name) =>
        _byName.TryGetValue(name, out var info)
            ? info
            : throw new KeyNotFoundException($"'{FilePath}' has no tensor named '{name}'.");

    /// <summary>
    /// Reads one tensor (CPU). With <paramref name="dtype"/>, a floating-point tensor is converted to that floating-point
    /// type (integer and bool tensors are returned as stored). The caller owns the returned tensor.
    /// </summary>
    /// <exception cref="ModelFormatException">The file is shorter than its header says, or the dtype has no TorchSharp type.</exception>
    public Tensor ReadTensor(string name, ScalarType? dtype = null)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var info = GetInfo(name);
        var stored = info.ScalarType ?? throw new ModelFormatException(
            $"Tensor '{name}' in '{FilePath}' has dtype {info.DTypeName}, which TorchSharp 0.107 cannot hold; supported: {SafetensorsDType.SupportedList}.");

        var tensor = empty(info.Shape.ToArray(), dtype: stored);
        try
        {
            ReadInto(tensor, info);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }

        if (dtype is { } target && target != stored && SafetensorsDType.IsFloatingPoint(stored) && SafetensorsDType.IsFloatingPoint(target))
        {
            var converted = tensor.to(target);
            tensor.Dispose();
            return converted;
        }

        return tensor;
    }

    /// <summary>
    /// Reads every tensor (or those <paramref name="include"/> accepts), in file order, converting floating-point tensors
    /// to <paramref name="dtype"/> one at a time. The caller owns the returned tensors.
    /// </summary>
    public Dictionary<string, Tensor> ReadAll(ScalarType? dtype = null, Func<string, bool>? include = null)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var info in Tensors)
            {
                if (include is null || include(info.Name))
                {
                    result.Add(info.Name, ReadTensor(info.Name, dtype));
                }
            }
        }
        catch
        {
            foreach (var tensor in result.Values)
            {
                tensor.Dispose();
            }

            throw;
        }

        return result;
    }

    /// <summary>
    /// Writes tensors to a safetensors file atomically (a temporary file in the same folder, then a rename), with
    /// <c>__metadata__</c> (<c>"format": "pt"</c> is added when <paramref name="metadata"/> lacks a <c>format</c> entry, as
    /// transformers requires). Tensors are laid out by decreasing element size, then name, and the header is padded to a
    /// multiple of 8 bytes, as the reference writer does.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor of a type safetensors cannot store, or an empty or reserved name.</exception>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Write(path, tensors.Select(kv => (kv.Key, kv.Value)).ToList(), metadata, convertTo: null);
    }

    /// <summary>Writes tensors, converting floating-point ones to <paramref name="convertTo"/> one at a time while writing.</summary>
    internal static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata, ScalarType? convertTo)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Safetensors data is little-endian; big-endian hosts are not supported.");
        }

        ScalarType TargetType(Tensor t) =>
            convertTo is { } c && SafetensorsDType.IsFloatingPoint(t.dtype) && SafetensorsDType.IsFloatingPoint(c) ? c : t.dtype;

        var ordered = tensors
            .Select(t =>
            {
                if (string.IsNullOrEmpty(t.Name) || t.Name == "__metadata__")
                {
                    throw new ArgumentException($"Tensor name '{t.Name}' is empty or reserved.", nameof(tensors));
                }

                return (t.Name, t.Tensor, Type: TargetType(t.Tensor));
            })
            .OrderByDescending(t => SafetensorsDType.ElementSize(t.Type))
            .ThenBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        var duplicate = ordered.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Tensor name '{duplicate.Key}' appears more than once.", nameof(tensors));
        }

        var header = BuildHeader(ordered.Select(t => (t.Name, t.Type, t.Tensor.shape)).ToList(), metadata);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (var (_, tensor, type) in ordered)
                {
                    WriteTensorBytes(stream, tensor, type);
                }

                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    private void ReadInto(Tensor tensor, SafetensorsTensorInfo info)
    {
        if (info.ByteLength == 0)
        {
            return;
        }

        using var flat = tensor.view(-1);
        var elementSize = info.ByteLength / info.ElementCount;
        var elementsPerChunk = Math.Max(1, ChunkBytes / elementSize);
        var position = _dataStart + info.DataOffset;
        for (long start = 0; start < info.ElementCount; start += elementsPerChunk)
        {
            var count = Math.Min(elementsPerChunk, info.ElementCount - start);
            using var part = flat.narrow(0, start, count);
            var span = part.bytes;
            while (!span.IsEmpty)
            {
                var read = RandomAccess.Read(_handle, span, position);
                if (read <= 0)
                {
                    throw new ModelFormatException(
                        $"'{FilePath}' ended while reading tensor '{info.Name}' at byte {position}: the file is truncated.");
                }

                position += read;
                span = span[read..];
            }
        }
    }

    private static void WriteTensorBytes(Stream stream, Tensor tensor, ScalarType type)
    {
        using var scope = NewDisposeScope();
        var source = tensor.device_type == global::TorchSharp.DeviceType.CPU ? tensor : tensor.cpu();
        if (source.dtype != type)
        {
            source = source.to(type);
        }

        if (!source.is_contiguous())
        {
            source = source.contiguous();
        }

        var count = source.numel();
        if (count == 0)
        {
            return;
        }

        using var flat = source.view(-1);
        var elementsPerChunk = Math.Max(1, ChunkBytes / SafetensorsDType.ElementSize(type));
        for (long start = 0; start < count; start += elementsPerChunk)
        {
            using var part = flat.narrow(0, start, Math.Min(elementsPerChunk, count - start));
            stream.Write(part.bytes);
        }
    }

    private static byte[] BuildHeader(IReadOnlyList<(string Name, ScalarType Type, long[] Shape)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            if (metadata is null || !metadata.ContainsKey("format"))
            {
                json.WriteString("format", "pt");
            }

            if (metadata is not null)
            {
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    json.WriteString(key, value);
                }
            }

            json.WriteEndObject();
            long offset = 0;
            foreach (var (name, type, shape) in entries)
            {
                long elements = 1;
                foreach (var dim in shape)
                {
                    elements = checked(elements * dim);
                }

                var bytes = checked(elements * SafetensorsDType.ElementSize(type));
                json.WriteStartObject(name);
                json.WriteString("dtype", SafetensorsDType.FromScalarType(type));
                json.WriteStartArray("shape");
                foreach (var dim in shape)
                {
                    json.WriteNumberValue(dim);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }

            json.WriteEndObject();
        }

        var length = (int)buffer.Length;
        var padded = (length + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.GetBuffer().AsSpan(0, length).CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }

    private static (long DataStart, IReadOnlyList<SafetensorsTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) ReadHeader(string path, SafeFileHandle handle)
    {
        var fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
        {
            throw new ModelFormatException($"'{path}' is not a safetensors file: it has {fileLength} bytes, fewer than the 8-byte header length.");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        ReadExactly(handle, lengthBytes, 0, path);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
        {
            throw new ModelFormatException(
                $"'{path}' is not a valid safetensors file: its header length field says {headerLength} bytes (at most {MaxHeaderBytes} allowed). The file is corrupt or of another format.");
        }

        if ((long)headerLength > fileLength - 8)
        {
            throw new ModelFormatException(
                $"'{path}' is truncated or corrupt: its header length field says {headerLength} bytes of JSON follow, but only {fileLength - 8} bytes do.");
        }

        var headerBytes = new byte[headerLength];
        ReadExactly(handle, headerBytes, 8, path);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"'{path}' has a corrupt safetensors header (not valid JSON: {ex.Message}).", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException($"'{path}' has a corrupt safetensors header: the JSON is a {document.RootElement.ValueKind}, not an object.");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafetensorsTensorInfo>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new ModelFormatException($"'{path}' has a corrupt safetensors header: '{property.Name}' appears twice.");
                }

                if (property.Name == "__metadata__")
                {
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }

                tensors.Add(ReadEntry(path, property.Name, property.Value, dataLength));
            }

            tensors.Sort((a, b) => a.DataOffset.CompareTo(b.DataOffset));
            for (var i = 1; i < tensors.Count; i++)
            {
                var previous = tensors[i - 1];
                if (tensors[i].DataOffset < previous.DataOffset + previous.ByteLength)
                {
                    throw new ModelFormatException(
                        $"'{path}' has a corrupt safetensors header: the bytes of '{tensors[i].Name}' overlap those of '{previous.Name}'.");
                }
            }

            return (dataStart, tensors, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException($"'{path}' has a corrupt safetensors header: __metadata__ must be an object of strings.");
        }

        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new ModelFormatException($"'{path}' has a corrupt safetensors header: __metadata__ entry '{entry.Name}' is not a string.");
            }

            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        string Bad(string what) => $"'{path}' has a corrupt safetensors header: tensor '{name}' {what}.";

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(Bad("is not an object with dtype, shape and data_offsets"));
        }

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new ModelFormatException(Bad("has no dtype string"));
        }

        var dtypeName = dtypeElement.GetString()!;
        var elementSize = SafetensorsDType.ElementSize(dtypeName)
            ?? throw new ModelFormatException(Bad($"has unknown dtype '{dtypeName}'"));

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(Bad("has no shape array"));
        }

        var shape = new List<long>(shapeElement.GetArrayLength());
        long elements = 1;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var size) || size < 0)
            {
                throw new ModelFormatException(Bad($"has an invalid shape entry {dim.GetRawText()}"));
            }

            shape.Add(size);
            try
            {
                elements = checked(elements * size);
            }
            catch (OverflowException)
            {
                throw new ModelFormatException(Bad("has a shape whose element count overflows"));
            }
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw new ModelFormatException(Bad("has no data_offsets pair"));
        }

        var begin = offsetsElement[0].TryGetInt64(out var b) ? b : -1;
        var end = offsetsElement[1].TryGetInt64(out var e) ? e : -1;
        if (begin < 0 || end < begin)
        {
            throw new ModelFormatException(Bad($"has invalid data_offsets [{offsetsElement[0].GetRawText()}, {offsetsElement[1].GetRawText()}]"));
        }

        long expected;
        try
        {
            expected = checked(elements * elementSize);
        }
        catch (OverflowException)
        {
            throw new ModelFormatException(Bad("is too large"));
        }

        if (end - begin != expected)
        {
            throw new ModelFormatException(Bad($"spans {end - begin} bytes but {dtypeName} [{string.Join(", ", shape)}] needs {expected}"));
        }

        if (end > dataLength)
        {
            throw new ModelFormatException(
                $"'{path}' is truncated: tensor '{name}' ends at data byte {end}, but the file holds only {dataLength} bytes of tensor data after its header.");
        }

        return new SafetensorsTensorInfo(name, dtypeName, SafetensorsDType.ToScalarType(dtypeName), shape, begin, expected);
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        while (!buffer.IsEmpty)
        {
            var read = RandomAccess.Read(handle, buffer, offset);
            if (read <= 0)
            {
                throw new ModelFormatException($"'{path}' ended unexpectedly at byte {offset}: the file is truncated.");
            }

            offset += read;
            buffer = buffer[read..];
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the temporary file is in the target folder and has a unique name.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}
