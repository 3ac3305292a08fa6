using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The BPE model of a byte-level tokenizer: maps one pre-token to ids by turning its UTF-8 bytes into byte-level symbols
/// and applying the ranked merges, lowest rank first and leftmost first among equal ranks, exactly as Hugging Face
/// tokenizers' <c>Word::merge_all</c> does. Results for short pieces are kept in a bounded, lock-free cache.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' <c>BpeTokenizer</c> (ByteLevel = true) gives the same ids, but its cache takes a lock on every
/// lookup, holds at most 10,000 words of at most 15 characters, keys words by their byte-level form (so every lookup
/// first re-encodes the piece), and its results come back as a fresh list per call. This model keys the cache by the
/// piece itself, reads it without locks, starts merging from per-byte ids (no string lookups), and writes into the
/// caller's sink. The benchmark <c>tokenizer</c> measures both.
/// </remarks>
internal sealed class ByteLevelBpeModel
{
    /// <summary>Pieces longer than this (in chars) are not cached: they rarely repeat.</summary>
    internal const int MaxCachedPieceLength = 128;

    /// <summary>Up to this many symbols a word is merged by rescanning an array; longer words use a heap.</summary>
    private const int SmallWordLimit = 64;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly MergeTable _merges;
    private readonly int[] _byteIds = new int[256];
    private readonly int _unknownId;
    private readonly bool _fuseUnknown;
    private readonly bool _ignoreMerges;
    private readonly int _cacheCapacity;
    private readonly ConcurrentDictionary<string, int[]> _cache;
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private int _cacheCount;

    /// <param name="vocab">Token string → id (byte-level strings).</param>
    /// <param name="merges">The merges in rank order, as (left, right) token strings.</param>
    /// <param name="unknownToken">The <c>unk_token</c>, or null (then bytes with no token are dropped, as in the reference).</param>
    /// <param name="fuseUnknown">Whether consecutive unknown symbols become one unknown token.</param>
    /// <param name="ignoreMerges">Whether a piece that is itself a vocabulary entry maps straight to it.</param>
    /// <param name="cacheCapacity">How many pieces the merge cache may hold (0 disables it).</param>
    public ByteLevelBpeModel(
        Dictionary<string, int> vocab,
        IReadOnlyList<(string Left, string Right)> merges,
        string? unknownToken,
        bool fuseUnknown,
        bool ignoreMerges,
        int cacheCapacity)
    {
        _vocab = vocab;
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _fuseUnknown = fuseUnknown;
        _ignoreMerges = ignoreMerges;
        _cacheCapacity = Math.Max(0, cacheCapacity);
        _cache = new ConcurrentDictionary<string, int[]>();
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

        if (unknownToken is null)
        {
            _unknownId = -1;
        }
        else if (!vocab.TryGetValue(unknownToken, out _unknownId))
        {
            throw new ModelFormatException(
                $"tokenizer.json: the BPE unk_token '{unknownToken}' is not in the model vocabulary.");
        }

        for (var b = 0; b < 256; b++)
        {
            _byteIds[b] = vocab.TryGetValue(ByteLevelAlphabet.ByteToChar((byte)b).ToString(), out var id) ? id : -1;
        }

        _merges = new MergeTable(merges.Count);
        var joined = new char[64];
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out var leftId) || !vocab.TryGetValue(right, out var rightId))
            {
                var missing = vocab.ContainsKey(left) ? right : left;
                throw new ModelFormatException(
                    $"tokenizer.json: merge #{rank} ('{left} {right}') uses '{missing}', which is not in the model vocabulary.");
            }

            var length = left.Length + right.Length;
            if (length > joined.Length)
            {
                joined = new char[length];
            }

            left.CopyTo(joined);
            right.CopyTo(joined.AsSpan(left.Length));
            if (!_vocabBySpan.TryGetValue(joined.AsSpan(0, length), out var mergedId))
            {
                throw new ModelFormatException(
                    $"tokenizer.json: merge #{rank} ('{left} {right}') makes '{left + right}', which is not in the model vocabulary.");
            }

            // A pair listed twice keeps its last rank, as the reference's hash map does.
            _merges.Set(leftId, rightId, ((long)rank << 32) | (uint)mergedId);
        }
    }

    /// <summary>Entries in the model vocabulary.</summary>
    public int VocabularyCount => _vocab.Count;

    /// <summary>The model vocabulary (byte-level token strings).</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _vocab;

    /// <summary>Ranked merges.</summary>
    public int MergeCount => _merges.Count;

    /// <summary>Pieces in the merge cache now.</summary>
    public int CachedPieceCount => Volatile.Read(ref _cacheCount);

    /// <summary>The id of a vocabulary entry.</summary>
    public bool TryGetId(ReadOnlySpan<char> token, out int id) => _vocabBySpan.TryGetValue(token, out id);

    /// <summary>Empties the merge cache (benchmarks measure cold and warm runs).</summary>
    public void ClearCache()
    {
        _cache.Clear();
        Volatile.Write(ref _cacheCount, 0);
    }

    /// <summary>Encodes one pre-token (text before byte-level mapping) into <paramref name="sink"/>.</summary>
    public void Encode<TSink>(ReadOnlySpan<char> piece, ref TSink sink)
        where TSink : ITokenSink, allows ref struct
    {
        if (piece.IsEmpty)
        {
            return;
        }

        var cacheable = _cacheCapacity > 0 && piece.Length <= MaxCachedPieceLength;
        if (cacheable && _cacheBySpan.TryGetValue(piece, out var cached))
        {
            sink.AddRange(cached);
            return;
        }

        var maxBytes = piece.Length * 3;
        byte[]? rentedBytes = null;
        int[]? rentedIds = null;
        Span<byte> bytes = maxBytes <= 512 ? stackalloc byte[maxBytes] : (rentedBytes = ArrayPool<byte>.Shared.Rent(maxBytes));
        Span<int> ids = maxBytes <= 512 ? stackalloc int[maxBytes] : (rentedIds = ArrayPool<int>.Shared.Rent(maxBytes));
        try
        {
            var byteCount = Encoding.UTF8.GetBytes(piece, bytes);
            var count = MergeBytes(bytes[..byteCount], ids);
            var result = ids[..count];
            sink.AddRange(result);

            if (cacheable && Volatile.Read(ref _cacheCount) < _cacheCapacity && _cache.TryAdd(piece.ToString(), result.ToArray()))
            {
                Interlocked.Increment(ref _cacheCount);
            }
        }
        finally
        {
            if (rentedBytes is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedBytes);
            }

            if (rentedIds is not null)
            {
                ArrayPool<int>.Shared.Return(rentedIds);
            }
        }
    }

    /// <summary>Maps UTF-8 bytes to symbols and merges them; writes the final ids to <paramref name="ids"/> and returns their count.</summary>
    internal int MergeBytes(ReadOnlySpan<byte> bytes, Span<int> ids)
    {
        if (_ignoreMerges && TryWholeWord(bytes, out var wholeId))
        {
            ids[0] = wholeId;
            return 1;
        }

        // Initial symbols: one per byte. A byte with no token becomes the unknown token (fused when asked), or is
        // dropped when there is none, as in the reference's merge_word.
        var count = 0;
        var pendingUnknown = false;
        foreach (var b in bytes)
        {
            var id = _byteIds[b];
            if (id >= 0)
            {
                if (pendingUnknown)
                {
                    ids[count++] = _unknownId;
                    pendingUnknown = false;
                }

                ids[count++] = id;
            }
            else if (_unknownId >= 0)
            {
                if (pendingUnknown && !_fuseUnknown)
                {
                    ids[count++] = _unknownId;
                }

                pendingUnknown = true;
            }
        }

        if (pendingUnknown)
        {
            ids[count++] = _unknownId;
        }

        if (count < 2)
        {
            return count;
        }

        return count <= SmallWordLimit ? MergeSmall(ids, count) : MergeLarge(ids, count);
    }

    // Rescans the pair ranks for the lowest (leftmost on ties) after each merge: for the short words that are nearly all
    // pre-tokens this beats a heap, and it applies merges in the same order as the reference's priority queue.
    internal int MergeSmall(Span<int> ids, int count)
    {
        Span<long> pairs = stackalloc long[SmallWordLimit];
        for (var i = 0; i < count - 1; i++)
        {
            pairs[i] = LookupPair(ids[i], ids[i + 1]);
        }

        while (count > 1)
        {
            var best = long.MaxValue;
            var bestIndex = -1;
            for (var i = 0; i < count - 1; i++)
            {
                // Rank sits in the high half, so comparing the packed values compares ranks.
                if (pairs[i] < best)
                {
                    best = pairs[i];
                    bestIndex = i;
                }
            }

            if (bestIndex < 0)
            {
                break;
            }

            ids[bestIndex] = (int)(best & 0xFFFFFFFF);
            ids.Slice(bestIndex + 2, count - bestIndex - 2).CopyTo(ids[(bestIndex + 1)..]);
            pairs.Slice(bestIndex + 1, count - bestIndex - 2).CopyTo(pairs[bestIndex..]);
            count--;

            if (bestIndex < count - 1)
            {
                pairs[bestIndex] = LookupPair(ids[bestIndex], ids[bestIndex + 1]);
            }

            if (bestIndex > 0)
            {
                pairs[bestIndex - 1] = LookupPair(ids[bestIndex - 1], ids[bestIndex]);
            }
        }

        return count;
    }

    // The reference algorithm for long words: a linked list of symbols and a priority queue of (rank, position), with
    // stale entries skipped when popped. O(n log n), so a megabyte of letters with no space stays fast.
    internal int MergeLarge(Span<int> ids, int count)
    {
        var next = ArrayPool<int>.Shared.Rent(count);
        var prev = ArrayPool<int>.Shared.Rent(count);
        var queue = new PriorityQueue<int, long>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                prev[i] = i - 1;
                next[i] = i + 1 < count ? i + 1 : -1;
            }

            for (var i = 0; i < count - 1; i++)
            {
                var pair = LookupPair(ids[i], ids[i + 1]);
                if (pair != long.MaxValue)
                {
                    queue.Enqueue(i, QueueKey(pair, i));
                }
            }

            while (queue.TryDequeue(out var position, out var key))
            {
                var right = next[position];
                if (ids[position] < 0 || right < 0)
                {
                    continue;
                }

                var pair = LookupPair(ids[position], ids[right]);
                if (pair == long.MaxValue || (int)(pair >> 32) != (int)(key >> 32))
                {
                    continue;
                }

                ids[position] = (int)(pair & 0xFFFFFFFF);
                ids[right] = -1;
                var after = next[right];
                next[position] = after;
                if (after >= 0)
                {
                    prev[after] = position;
                    var nextPair = LookupPair(ids[position], ids[after]);
                    if (nextPair != long.MaxValue)
                    {
                        queue.Enqueue(position, QueueKey(nextPair, position));
                    }
                }

                var before = prev[position];
                if (before >= 0)
                {
                    var previousPair = LookupPair(ids[before], ids[position]);
                    if (previousPair != long.MaxValue)
                    {
                        queue.Enqueue(before, QueueKey(previousPair, before));
                    }
                }
            }

            var written = 0;
            for (var i = 0; i >= 0; i = next[i])
            {
                ids[written++] = ids[i];
            }

            return written;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(next);
            ArrayPool<int>.Shared.Return(prev);
        }
    }

    private bool TryWholeWord(ReadOnlySpan<byte> bytes, out int id)
    {
        char[]? rented = null;
        Span<char> chars = bytes.Length <= 256 ? stackalloc char[bytes.Length] : (rented = ArrayPool<char>.Shared.Rent(bytes.Length));
        try
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[i] = ByteLevelAlphabet.ByteToChar(bytes[i]);
            }

            return _vocabBySpan.TryGetValue(chars[..bytes.Length], out id);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The merge of (left, right) packed as rank &lt;&lt; 32 | merged id, or <see cref="long.MaxValue"/> when there is none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long LookupPair(int left, int right) => _merges.Get(left, right);

    // Orders by rank, then by position (leftmost first), as the reference's Merge ordering does.
    private static long QueueKey(long pair, int position) => (pair & unchecked((long)0xFFFFFFFF00000000)) | (uint)position;
}
