using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Vlm2Vec.Evaluation;

/// <summary>
/// An on-disk embedding cache for one model: an append-only file of (SHA-256 key, float32 vector) records behind a
/// 16-byte header (<c>V2VCACH1</c>, dimension). Only the keys and file offsets are held in memory; vectors are read on
/// demand. A partial last record (an interrupted run) is cut off with a warning. The file is opened for exclusive
/// writing; a second process gets no cache rather than a corrupt one.
/// </summary>
/// <remarks>
/// Hand-written because it is a few dozen lines over <see cref="RandomAccess"/>; a database (SQLite) would add a native
/// dependency to Core for a key-value append log.
/// </remarks>
internal sealed class PersistentEmbeddingCache : IDisposable
{
    private const int HeaderSize = 16;
    private static ReadOnlySpan<byte> Magic => "V2VCACH1"u8;

    private readonly SafeFileHandle _handle;
    private readonly Dictionary<EmbeddingKey, long> _offsets = [];
    private readonly int _dimension;
    private readonly int _recordSize;
    private readonly Lock _lock = new();
    private long _length;

    private PersistentEmbeddingCache(SafeFileHandle handle, string path, int dimension, long length)
    {
        _handle = handle;
        Path = path;
        _dimension = dimension;
        _recordSize = EmbeddingKey.Size + dimension * sizeof(float);
        _length = length;
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }

    /// <summary>Entries in the cache.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _offsets.Count;
            }
        }
    }

    /// <summary>The digest identifying a model and its preprocessing; part of every entry key and of the file name.</summary>
    public static byte[] ModelDigest(string modelDescription) => SHA256.HashData(Encoding.UTF8.GetBytes(modelDescription));

    /// <summary>Opens (or creates) the cache file of a model in <paramref name="folder"/>; null (with a warning) when it cannot be used.</summary>
    public static PersistentEmbeddingCache? Open(string folder, string modelDescription, int dimension, ILogger logger)
    {
        var digest = ModelDigest(modelDescription);
        var stem = $"embeddings-{Convert.ToHexStringLower(digest.AsSpan(0, 8))}";
        var path = System.IO.Path.Combine(folder, stem + ".bin");
        SafeFileHandle? handle = null;
        try
        {
            Directory.CreateDirectory(folder);
            var describe = System.IO.Path.Combine(folder, stem + ".txt");
            if (!File.Exists(describe))
            {
                File.WriteAllText(describe, "vlm2vec eval embedding cache for:\n" + modelDescription + "\n");
            }

            handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, FileOptions.RandomAccess);
            var cache = Load(handle, path, dimension, logger);
            handle = null;
            return cache;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            EvaluationLog.CacheUnavailable(logger, path, ex.Message);
            return null;
        }
        finally
        {
            handle?.Dispose();
        }
    }

    /// <summary>Copies the cached vector of <paramref name="key"/> into <paramref name="destination"/>; false when absent.</summary>
    public bool TryGet(in EmbeddingKey key, Span<float> destination)
    {
        long offset;
        lock (_lock)
        {
            if (!_offsets.TryGetValue(key, out offset))
            {
                return false;
            }
        }

        var bytes = MemoryMarshal.AsBytes(destination[.._dimension]);
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(_handle, bytes[read..], offset + EmbeddingKey.Size + read);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        if (!BitConverter.IsLittleEndian)
        {
            ReverseFloats(destination[.._dimension]);
        }

        return true;
    }

    /// <summary>Appends an entry (ignored when the key is already there).</summary>
    public void Add(in EmbeddingKey key, ReadOnlySpan<float> vector)
    {
        if (vector.Length != _dimension)
        {
            throw new ArgumentException($"The vector has {vector.Length} values; the cache holds {_dimension}.", nameof(vector));
        }

        var record = new byte[_recordSize];
        key.WriteTo(record);
        var floats = MemoryMarshal.Cast<byte, float>(record.AsSpan(EmbeddingKey.Size));
        vector.CopyTo(floats);
        if (!BitConverter.IsLittleEndian)
        {
            ReverseFloats(floats);
        }

        lock (_lock)
        {
            if (_offsets.ContainsKey(key))
            {
                return;
            }

            RandomAccess.Write(_handle, record, _length);
            _offsets[key] = _length;
            _length += _recordSize;
        }
    }

    /// <summary>Flushes written entries to disk.</summary>
    public void Flush() => RandomAccess.FlushToDisk(_handle);

    public void Dispose() => _handle.Dispose();

    private static PersistentEmbeddingCache Load(SafeFileHandle handle, string path, int dimension, ILogger logger)
    {
        var length = RandomAccess.GetLength(handle);
        Span<byte> header = stackalloc byte[HeaderSize];
        if (length == 0)
        {
            Magic.CopyTo(header);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], dimension);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], 0);
            RandomAccess.Write(handle, header, 0);
            return new PersistentEmbeddingCache(handle, path, dimension, HeaderSize);
        }

        if (length < HeaderSize || RandomAccess.Read(handle, header, 0) != HeaderSize || !header[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException("it is not an embedding cache file (bad header); delete it to start a new cache");
        }

        var stored = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (stored != dimension)
        {
            throw new InvalidDataException($"it holds {stored}-value vectors but the model has {dimension}; delete it to start a new cache");
        }

        var cache = new PersistentEmbeddingCache(handle, path, dimension, HeaderSize);
        var records = (length - HeaderSize) / cache._recordSize;
        var whole = HeaderSize + records * cache._recordSize;
        if (whole != length)
        {
            RandomAccess.SetLength(handle, whole);
            EvaluationLog.CacheTruncated(logger, path, length);
        }

        Span<byte> key = stackalloc byte[EmbeddingKey.Size];
        for (long i = 0; i < records; i++)
        {
            var offset = HeaderSize + i * cache._recordSize;
            if (RandomAccess.Read(handle, key, offset) != EmbeddingKey.Size)
            {
                throw new InvalidDataException($"record {i} could not be read");
            }

            cache._offsets.TryAdd(EmbeddingKey.FromBytes(key), offset);
        }

        cache._length = whole;
        return cache;
    }

    private static void ReverseFloats(Span<float> values)
    {
        var ints = MemoryMarshal.Cast<float, int>(values);
        for (var i = 0; i < ints.Length; i++)
        {
            ints[i] = BinaryPrimitives.ReverseEndianness(ints[i]);
        }
    }
}
