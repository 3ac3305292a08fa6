using System.Runtime.CompilerServices;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The BPE merges as an open-addressing hash table from a symbol pair (left id, right id) to its packed
/// (rank &lt;&lt; 32 | merged id). Read-only after construction, so lookups from many threads need no locks.
/// </summary>
/// <remarks>
/// A <c>Dictionary&lt;long, long&gt;</c> hashes a long as its two halves XOR-ed, which for pairs of token ids collides
/// badly (every pair with the same left ^ right lands together) and made merging ten times slower; this table mixes the
/// key with a Fibonacci multiply and probes linearly.
/// </remarks>
internal sealed class MergeTable
{
    private const long EmptyKey = -1;

    private readonly long[] _keys;
    private readonly long[] _values;
    private readonly int _shift;
    private readonly int _mask;

    public MergeTable(int expectedCount)
    {
        var bits = 4;
        while ((1 << bits) < expectedCount * 2)
        {
            bits++;
        }

        _keys = new long[1 << bits];
        _values = new long[1 << bits];
        Array.Fill(_keys, EmptyKey);
        _shift = 64 - bits;
        _mask = (1 << bits) - 1;
    }

    /// <summary>Pairs in the table.</summary>
    public int Count { get; private set; }

    /// <summary>Sets the merge of (left, right); a pair set twice keeps the last value.</summary>
    public void Set(int left, int right, long packed)
    {
        if ((Count + 1) * 2 > _keys.Length)
        {
            throw new InvalidOperationException("The merge table was sized for fewer pairs.");
        }

        var key = Key(left, right);
        var index = Slot(key);
        while (_keys[index] != EmptyKey && _keys[index] != key)
        {
            index = (index + 1) & _mask;
        }

        if (_keys[index] == EmptyKey)
        {
            _keys[index] = key;
            Count++;
        }

        _values[index] = packed;
    }

    /// <summary>The packed merge of (left, right), or <see cref="long.MaxValue"/> when the pair does not merge.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Get(int left, int right)
    {
        var key = Key(left, right);
        var index = Slot(key);
        while (true)
        {
            var found = _keys[index];
            if (found == key)
            {
                return _values[index];
            }

            if (found == EmptyKey)
            {
                return long.MaxValue;
            }

            index = (index + 1) & _mask;
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private int Slot(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> _shift);
}
