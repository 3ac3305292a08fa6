namespace Vlm2Vec.Server.Batching;

/// <summary>The batcher cannot take a request now: its queue is full (retry soon) or it is shutting down.</summary>
internal sealed class BatcherUnavailableException : Exception
{
    public BatcherUnavailableException()
    {
    }

    public BatcherUnavailableException(string message)
        : base(message)
    {
    }

    public BatcherUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public BatcherUnavailableException(bool queueFull, string message)
        : base(message)
    {
        QueueFull = queueFull;
    }

    /// <summary>True: the queue is full (429); false: the server is shutting down (503).</summary>
    public bool QueueFull { get; }
}
