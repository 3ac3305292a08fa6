using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// One input of a step: prepared already (text, cached; or images kept in memory), or deferred: prepared again from its
/// source each time a chunk needs it, so that under GradCache the processed images of the whole batch never sit in
/// memory at once (only those of the chunk being run). Preprocessing is deterministic, so every preparation of a
/// deferred input gives the same tensors.
/// </summary>
internal sealed class BatchInput
{
    private readonly PreparedInput? _prepared;
    private readonly MultimodalInput? _source;
    private readonly Vlm2VecPreprocessor? _preprocessor;
    private readonly string? _name;

    private BatchInput(PreparedInput? prepared, MultimodalInput? source, Vlm2VecPreprocessor? preprocessor, string? name)
    {
        _prepared = prepared;
        _source = source;
        _preprocessor = preprocessor;
        _name = name;
    }

    public bool IsDeferred => _prepared is null;

    public static BatchInput Of(PreparedInput prepared) => new(prepared ?? throw new ArgumentNullException(nameof(prepared)), null, null, null);

    public static BatchInput Deferred(MultimodalInput source, Vlm2VecPreprocessor preprocessor, string name) => new(null, source, preprocessor, name);

    /// <summary>The prepared input (preparing it now when deferred).</summary>
    /// <exception cref="TrainingDataException">A deferred input that prepared before no longer does (its file changed).</exception>
    public PreparedInput Get()
    {
        if (_prepared is not null)
        {
            return _prepared;
        }

        try
        {
            return _preprocessor!.Prepare(_source!);
        }
        catch (Vlm2VecException ex)
        {
            throw new TrainingDataException(_name ?? "(unnamed)", $"it was usable when the batch was assembled but not any more: {ex.Message}", ex);
        }
    }

    /// <summary>Prepares every input of a chunk (deferred ones on up to <paramref name="parallelism"/> threads).</summary>
    public static IReadOnlyList<PreparedInput> Materialise(IReadOnlyList<BatchInput> inputs, int start, int count, int parallelism = 1)
    {
        var rows = new PreparedInput[count];
        var deferred = false;
        for (var j = 0; j < count; j++)
        {
            deferred |= inputs[start + j].IsDeferred;
        }

        if (!deferred)
        {
            for (var j = 0; j < count; j++)
            {
                rows[j] = inputs[start + j]._prepared!;
            }

            return rows;
        }

        if (parallelism <= 1)
        {
            for (var j = 0; j < count; j++)
            {
                rows[j] = inputs[start + j].Get();
            }

            return rows;
        }

        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, j => rows[j] = inputs[start + j].Get());
        return rows;
    }
}
