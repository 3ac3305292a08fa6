namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// Keeps the <c>k</c> closest candidates seen so far in a bounded heap whose root is the worst kept candidate, so a
/// scan of n rows costs O(n log k) rather than a full sort. "Closeness" is the score for similarities and the negated
/// score for distances; ties go to the lower slot, so results are deterministic. NaN scores are never kept.
/// </summary>
internal sealed class TopKCollector
{
    private readonly PriorityQueue<int, Candidate> _heap;

    public TopKCollector(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _heap = new PriorityQueue<int, Candidate>(Math.Min(capacity, 1024), WorstFirst.Instance);
    }

    public int Capacity { get; }

    public int Count => _heap.Count;

    /// <summary>Offers a candidate; kept when the heap is not full or it is closer than the worst kept one.</summary>
    public void Offer(float closeness, int slot)
    {
        if (float.IsNaN(closeness))
        {
            return;
        }

        var candidate = new Candidate(closeness, slot);
        if (_heap.Count < Capacity)
        {
            _heap.Enqueue(slot, candidate);
        }
        else if (_heap.TryPeek(out _, out var worst) && WorstFirst.Instance.Compare(worst, candidate) < 0)
        {
            _heap.DequeueEnqueue(slot, candidate);
        }
    }

    /// <summary>Offers every candidate of <paramref name="other"/> (merging per-thread collectors).</summary>
    public void MergeFrom(TopKCollector other)
    {
        foreach (var (_, candidate) in other._heap.UnorderedItems)
        {
            Offer(candidate.Closeness, candidate.Slot);
        }
    }

    /// <summary>The kept candidates, closest first.</summary>
    public Candidate[] ToArrayClosestFirst()
    {
        var result = new Candidate[_heap.Count];
        var i = 0;
        foreach (var (_, candidate) in _heap.UnorderedItems)
        {
            result[i++] = candidate;
        }

        Array.Sort(result, static (a, b) => WorstFirst.Instance.Compare(b, a));
        return result;
    }

    /// <summary>A kept candidate.</summary>
    /// <param name="Closeness">Higher is closer.</param>
    /// <param name="Slot">The row's slot.</param>
    internal readonly record struct Candidate(float Closeness, int Slot);

    /// <summary>Orders the worse candidate first: lower closeness, then higher slot.</summary>
    private sealed class WorstFirst : IComparer<Candidate>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare(Candidate x, Candidate y)
        {
            var byCloseness = x.Closeness.CompareTo(y.Closeness);
            return byCloseness != 0 ? byCloseness : y.Slot.CompareTo(x.Slot);
        }
    }
}
