namespace Vlm2Vec.Server.Batching;

/// <summary>
/// The inputs of one request inside the batcher: their vectors are filled in by index as batches finish (whatever batch
/// each input landed in), and the request completes when the last one arrives or fails at its first failing input.
/// </summary>
internal sealed class EmbeddingJob
{
    private readonly TaskCompletionSource<float[][]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly float[][] _vectors;
    private int _remaining;

    public EmbeddingJob(int count, CancellationToken cancellation)
    {
        _vectors = new float[count][];
        _remaining = count;
        Cancellation = cancellation;
    }

    /// <summary>The request's cancellation (client gone).</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Completes with every vector in input order, or faults with the first failure.</summary>
    public Task<float[][]> Completion => _completion.Task;

    /// <summary>Whether the remaining inputs need no encoding any more (failed, cancelled or abandoned).</summary>
    public bool IsAbandoned => _completion.Task.IsCompleted || Cancellation.IsCancellationRequested;

    public void Complete(int index, float[] vector)
    {
        _vectors[index] = vector;
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _completion.TrySetResult(_vectors);
        }
    }

    /// <summary>Fails the whole request because input <paramref name="index"/> failed (only the first failure is kept).</summary>
    public void Fail(int index, Exception error) =>
        _completion.TrySetException(error is OperationCanceledException or BatchItemException ? error : new BatchItemException(index, error));

    /// <summary>Gives up on the request (it failed before all its inputs were queued).</summary>
    public void Abandon() => _completion.TrySetCanceled();
}
