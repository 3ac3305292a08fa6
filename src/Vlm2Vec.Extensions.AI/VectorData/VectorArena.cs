using System.Numerics.Tensors;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// The vectors of one vector field, by slot: contiguous float32 chunks of a power-of-two number of rows (at most 4096
/// rows or 64 MiB per chunk, so growth never copies what is already there, nothing needs one 6 GB array, and a parallel
/// scan has chunks to share out), plus each row's L2 norm. A negative norm marks a slot without a vector (deleted, never written, or a null vector).
/// Not thread-safe: <see cref="CollectionStorage"/> guards it.
/// </summary>
internal sealed class VectorArena
{
    /// <summary>Target floats per chunk (2^24 floats = 64 MiB).</summary>
    private const int TargetChunkFloats = 1 << 24;

    /// <summary>The most rows per chunk.</summary>
    private const int MaxRowsPerChunk = 4096;

    private readonly List<float[]> _vectorChunks = [];
    private readonly List<float[]> _normChunks = [];

    public VectorArena(int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        Dimensions = dimensions;
        var rows = Math.Clamp(TargetChunkFloats / dimensions, 64, MaxRowsPerChunk);
        ChunkShift = 31 - int.LeadingZeroCount(rows);
        RowsPerChunk = 1 << ChunkShift;
    }

    public int Dimensions { get; }

    /// <summary>Rows per chunk (a power of two).</summary>
    public int RowsPerChunk { get; }

    /// <summary>log2 of <see cref="RowsPerChunk"/>.</summary>
    public int ChunkShift { get; }

    /// <summary>The number of chunks allocated.</summary>
    public int ChunkCount => _vectorChunks.Count;

    /// <summary>The slots the arena can hold without growing.</summary>
    public int Capacity => _vectorChunks.Count << ChunkShift;

    /// <summary>The vectors of chunk <paramref name="chunk"/> (<see cref="RowsPerChunk"/> × <see cref="Dimensions"/> floats).</summary>
    public float[] VectorChunk(int chunk) => _vectorChunks[chunk];

    /// <summary>The norms of chunk <paramref name="chunk"/> (negative: no vector).</summary>
    public float[] NormChunk(int chunk) => _normChunks[chunk];

    /// <summary>Grows the arena so that <paramref name="slot"/> exists.</summary>
    public void EnsureSlot(int slot)
    {
        while (slot >= Capacity)
        {
            _vectorChunks.Add(new float[RowsPerChunk * Dimensions]);
            var norms = new float[RowsPerChunk];
            norms.AsSpan().Fill(-1f);
            _normChunks.Add(norms);
        }
    }

    /// <summary>Stores <paramref name="vector"/> at <paramref name="slot"/> (its length is the arena's dimensions).</summary>
    public void Set(int slot, ReadOnlySpan<float> vector)
    {
        EnsureSlot(slot);
        var (chunk, row) = Locate(slot);
        vector.CopyTo(_vectorChunks[chunk].AsSpan(row * Dimensions, Dimensions));
        _normChunks[chunk][row] = TensorPrimitives.Norm(vector);
    }

    /// <summary>Marks <paramref name="slot"/> as holding no vector.</summary>
    public void Clear(int slot)
    {
        if (slot < Capacity)
        {
            var (chunk, row) = Locate(slot);
            _normChunks[chunk][row] = -1f;
        }
    }

    /// <summary>Whether <paramref name="slot"/> holds a vector.</summary>
    public bool Has(int slot)
    {
        if (slot >= Capacity)
        {
            return false;
        }

        var (chunk, row) = Locate(slot);
        return _normChunks[chunk][row] >= 0f;
    }

    /// <summary>The vector at <paramref name="slot"/> (valid only when <see cref="Has"/>).</summary>
    public ReadOnlySpan<float> Get(int slot)
    {
        var (chunk, row) = Locate(slot);
        return _vectorChunks[chunk].AsSpan(row * Dimensions, Dimensions);
    }

    private (int Chunk, int Row) Locate(int slot) => (slot >> ChunkShift, slot & (RowsPerChunk - 1));
}
