using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// Prepares the examples of a batch with the serving preprocessing (<see cref="Vlm2VecPreprocessor.Prepare"/>), in
/// parallel, and applies the bad-row policy in example order: an unusable row (undecodable or missing image, nothing to
/// embed, over the token limit with truncation refused) is either left out, remembered (never retried) and logged once,
/// or stops the run. Text-only inputs are cached by their prompt (labels and captions repeat across the data).
/// </summary>
internal sealed class TrainingBatchAssembler
{
    private const long NegativeChoiceStream = 3;
    private const int TextCacheLimit = 200_000;

    private readonly Vlm2VecPreprocessor _preprocessor;
    private readonly IReadOnlyList<ContrastiveExample> _examples;
    private readonly int _hardNegatives;
    private readonly long _seed;
    private readonly BadRowPolicy _policy;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, PreparedInput> _textCache = new(StringComparer.Ordinal);

    public TrainingBatchAssembler(
        Vlm2VecPreprocessor preprocessor, IReadOnlyList<ContrastiveExample> examples, int hardNegatives, long seed, BadRowPolicy policy, ILogger logger)
    {
        _preprocessor = preprocessor;
        _examples = examples;
        _hardNegatives = hardNegatives;
        _seed = seed;
        _policy = policy;
        _logger = logger;
    }

    private readonly HashSet<int> _badRows = [];
    private readonly Lock _badRowsGate = new();

    /// <summary>Rows found unusable so far.</summary>
    public int BadRowCount
    {
        get
        {
            lock (_badRowsGate)
            {
                return _badRows.Count;
            }
        }
    }

    /// <summary>Indices of rows found unusable, sorted (the checkpoint saves them, so a resumed run skips the same rows).</summary>
    public List<int> BadRowsSnapshot()
    {
        lock (_badRowsGate)
        {
            return [.. _badRows.Order()];
        }
    }

    /// <summary>Marks rows as unusable (restored from a checkpoint).</summary>
    public void MarkBad(IEnumerable<int> rows)
    {
        lock (_badRowsGate)
        {
            _badRows.UnionWith(rows);
        }
    }

    private bool IsBad(int index)
    {
        lock (_badRowsGate)
        {
            return _badRows.Contains(index);
        }
    }

    /// <summary>Prepares every row of <paramref name="indices"/> (no policy applied yet; safe to run ahead on another thread).</summary>
    public PreparationResult[] Prepare(int[] indices, int epoch)
    {
        var results = new PreparationResult[indices.Length];
        Parallel.For(0, indices.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, j =>
        {
            var index = indices[j];
            try
            {
                results[j] = new PreparationResult(index, PrepareOne(index, epoch), null);
            }
            catch (Exception ex) when (ex is Vlm2VecException)
            {
                results[j] = new PreparationResult(index, null, ex);
            }
        });
        return results;
    }

    /// <summary>Applies the policy to prepared rows, in order: the usable ones form the batch.</summary>
    /// <exception cref="TrainingDataException">A row is unusable and the policy is <see cref="BadRowPolicy.Fail"/>.</exception>
    public List<PreparedExample> Accept(PreparationResult[] results)
    {
        var accepted = new List<PreparedExample>(results.Length);
        foreach (var result in results)
        {
            if (result.Example is { } example)
            {
                accepted.Add(example);
                continue;
            }

            if (IsBad(result.Index))
            {
                continue;
            }

            var source = SourceOf(result.Index);
            if (_policy == BadRowPolicy.Fail)
            {
                throw new TrainingDataException(source, result.Error!.Message, result.Error);
            }

            MarkBad([result.Index]);
            TrainingLog.BadRowSkipped(_logger, source, result.Error!.Message);
        }

        return accepted;
    }

    /// <summary>How a row is named in messages.</summary>
    public string SourceOf(int index) => _examples[index].Source ?? $"example {index}";

    private PreparedExample? PrepareOne(int index, int epoch)
    {
        if (IsBad(index))
        {
            return null;
        }

        var example = _examples[index];
        var query = PrepareInput(example.Query);
        var positive = PrepareInput(example.Positive);
        IReadOnlyList<PreparedInput> negatives = [];
        if (_hardNegatives > 0 && example.Negatives.Count > 0)
        {
            var chosen = ChooseNegatives(example.Negatives.Count, index, epoch);
            var prepared = new PreparedInput[chosen.Length];
            for (var k = 0; k < chosen.Length; k++)
            {
                prepared[k] = PrepareInput(example.Negatives[chosen[k]]);
            }

            negatives = prepared;
        }

        return new PreparedExample(index, query, positive, negatives);
    }

    private int[] ChooseNegatives(int available, int index, int epoch)
    {
        var order = Enumerable.Range(0, available).ToArray();
        if (available <= _hardNegatives)
        {
            return order;
        }

        new SeededRandom(_seed, NegativeChoiceStream, epoch, index).Shuffle(order);
        return order[.._hardNegatives];
    }

    private PreparedInput PrepareInput(MultimodalInput input)
    {
        if (input.Images.Count > 0)
        {
            return _preprocessor.Prepare(input);
        }

        var prompt = _preprocessor.FormatPrompt(input);
        if (_textCache.TryGetValue(prompt, out var cached))
        {
            return cached;
        }

        var prepared = _preprocessor.Prepare(input);
        if (_textCache.Count < TextCacheLimit)
        {
            _textCache.TryAdd(prompt, prepared);
        }

        return prepared;
    }
}
