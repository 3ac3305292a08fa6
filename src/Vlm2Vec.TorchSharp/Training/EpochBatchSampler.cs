namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// The batches of each epoch, as example indices: a seeded permutation cut into batches (the last one may be smaller),
/// or, with homogeneous batches, each dataset's permuted rows cut into batches and the batch order permuted (VLM2Vec
/// V2's per-dataset batches). An epoch's batches depend only on (seed, epoch), so a resumed run rebuilds them.
/// </summary>
internal sealed class EpochBatchSampler
{
    private const long OrderStream = 1;
    private const long BatchOrderStream = 2;

    private readonly int[][] _groups;
    private readonly int _count;
    private readonly int _batchSize;
    private readonly bool _shuffle;
    private readonly long _seed;
    private int _cachedEpoch = -1;
    private List<int[]> _cached = [];

    public EpochBatchSampler(IReadOnlyList<string?> datasetOfExample, int batchSize, bool shuffle, bool homogeneous, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (datasetOfExample.Count == 0)
        {
            throw new ArgumentException("There are no training examples.", nameof(datasetOfExample));
        }

        _count = datasetOfExample.Count;
        _batchSize = batchSize;
        _shuffle = shuffle;
        _seed = seed;
        if (homogeneous)
        {
            var byName = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            var order = new List<List<int>>();
            for (var i = 0; i < datasetOfExample.Count; i++)
            {
                var key = datasetOfExample[i] ?? string.Empty;
                if (!byName.TryGetValue(key, out var list))
                {
                    list = [];
                    byName[key] = list;
                    order.Add(list);
                }

                list.Add(i);
            }

            _groups = [.. order.Select(l => l.ToArray())];
        }
        else
        {
            _groups = [Enumerable.Range(0, _count).ToArray()];
        }

        var batches = 0;
        foreach (var group in _groups)
        {
            batches += (group.Length + batchSize - 1) / batchSize;
        }

        BatchesPerEpoch = batches;
    }

    public int BatchesPerEpoch { get; }

    public int DatasetCount => _groups.Length;

    /// <summary>The example indices of batch <paramref name="batch"/> of epoch <paramref name="epoch"/>.</summary>
    public int[] Batch(int epoch, int batch)
    {
        if (epoch != _cachedEpoch)
        {
            _cached = Plan(epoch);
            _cachedEpoch = epoch;
        }

        return _cached[batch];
    }

    private List<int[]> Plan(int epoch)
    {
        var batches = new List<int[]>(BatchesPerEpoch);
        for (var g = 0; g < _groups.Length; g++)
        {
            var order = (int[])_groups[g].Clone();
            if (_shuffle)
            {
                new SeededRandom(_seed, OrderStream, epoch, g).Shuffle(order);
            }

            for (var start = 0; start < order.Length; start += _batchSize)
            {
                batches.Add(order[start..Math.Min(order.Length, start + _batchSize)]);
            }
        }

        if (_groups.Length > 1 && _shuffle)
        {
            var permutation = Enumerable.Range(0, batches.Count).ToArray();
            new SeededRandom(_seed, BatchOrderStream, epoch).Shuffle(permutation);
            batches = [.. permutation.Select(i => batches[i])];
        }

        return batches;
    }
}
