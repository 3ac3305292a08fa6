namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// Brute-force (exact) nearest-neighbour search over a collection's arena: every row with a vector is filtered, scored
/// with <see cref="VectorScoring"/> and offered to a bounded <see cref="TopKCollector"/> of size skip + top. Large scans
/// are split by arena chunk across threads, each with its own collector, merged at the end. Call under the
/// collection's read lock.
/// </summary>
internal static class ExactSearch
{
    /// <summary>Below this many floats to score, one thread is faster than fanning out.</summary>
    internal const long ParallelThresholdFloats = 1L << 20;

    /// <summary>Returns the <paramref name="count"/> closest rows, closest first, with their scores.</summary>
    public static (int Slot, double Score)[] Search(
        CollectionStorage storage,
        int vectorFieldIndex,
        ReadOnlyMemory<float> query,
        DistanceKind distance,
        Func<StoredRow, bool>? filter,
        double? scoreThreshold,
        int count,
        int maxDegreeOfParallelism)
    {
        var arena = storage.Arena(vectorFieldIndex);
        var highWater = storage.HighWater;
        // The arena grows only when a vector is stored, so a field with no vectors in later slots has fewer chunks.
        var chunks = Math.Min((highWater + arena.RowsPerChunk - 1) >> arena.ChunkShift, arena.ChunkCount);
        var queryNorm = System.Numerics.Tensors.TensorPrimitives.Norm(query.Span);
        var context = new ScanContext(storage, arena, query, queryNorm, distance, filter, scoreThreshold, highWater);

        TopKCollector collector;
        if (maxDegreeOfParallelism > 1 && chunks > 1 && (long)storage.Count * arena.Dimensions >= ParallelThresholdFloats)
        {
            collector = new TopKCollector(count);
            var merge = new Lock();
            try
            {
                RunParallel();
            }
            catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
            {
                // A filter that throws (e.g. reading a null Nullable<T>.Value) surfaces as itself, as in the serial scan.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            }

            void RunParallel() => Parallel.For(
                0,
                chunks,
                new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
                () => new TopKCollector(count),
                (chunk, _, local) =>
                {
                    context.ScanChunk(chunk, local);
                    return local;
                },
                local =>
                {
                    lock (merge)
                    {
                        collector.MergeFrom(local);
                    }
                });
        }
        else
        {
            collector = new TopKCollector(count);
            for (var chunk = 0; chunk < chunks; chunk++)
            {
                context.ScanChunk(chunk, collector);
            }
        }

        var higherIsCloser = VectorScoring.HigherIsCloser(distance);
        var kept = collector.ToArrayClosestFirst();
        var result = new (int Slot, double Score)[kept.Length];
        for (var i = 0; i < kept.Length; i++)
        {
            result[i] = (kept[i].Slot, higherIsCloser ? kept[i].Closeness : -kept[i].Closeness);
        }

        return result;
    }

    /// <summary>The state one scan shares across chunks (and threads: all of it is read-only).</summary>
    private sealed class ScanContext(
        CollectionStorage storage,
        VectorArena arena,
        ReadOnlyMemory<float> query,
        float queryNorm,
        DistanceKind distance,
        Func<StoredRow, bool>? filter,
        double? scoreThreshold,
        int highWater)
    {
        private readonly bool _higherIsCloser = VectorScoring.HigherIsCloser(distance);

        public void ScanChunk(int chunk, TopKCollector collector)
        {
            var dimensions = arena.Dimensions;
            var vectors = arena.VectorChunk(chunk);
            var norms = arena.NormChunk(chunk);
            var firstSlot = chunk << arena.ChunkShift;
            var rows = Math.Min(arena.RowsPerChunk, highWater - firstSlot);
            var querySpan = query.Span;
            Span<float> scratch = distance == DistanceKind.ManhattanDistance ? new float[dimensions] : default;
            for (var row = 0; row < rows; row++)
            {
                var norm = norms[row];
                if (norm < 0f)
                {
                    continue;
                }

                var slot = firstSlot + row;
                if (filter is not null && (storage.RowAt(slot) is not { } stored || !filter(stored)))
                {
                    continue;
                }

                var score = VectorScoring.Score(distance, querySpan, queryNorm, vectors.AsSpan(row * dimensions, dimensions), norm, scratch);
                if (scoreThreshold is { } threshold && (_higherIsCloser ? score < threshold : score > threshold))
                {
                    continue;
                }

                collector.Offer(_higherIsCloser ? score : -score, slot);
            }
        }
    }
}
