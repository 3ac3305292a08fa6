using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>Options of a <see cref="Vlm2VecVectorStore"/>.</summary>
public sealed class Vlm2VecVectorStoreOptions
{
    /// <summary>
    /// The SQLite database file (created with its folder when missing). Null or empty: the store lives in memory only
    /// and is lost when disposed. Every store opened on the same file in one process shares one connection and index;
    /// another process cannot open the file while it is open here.
    /// </summary>
    public string? DatabasePath { get; set; }

    /// <summary>
    /// The default embedding generator of every collection, used when neither the vector property, the collection
    /// definition nor the collection options name one. Any <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> that
    /// produces <see cref="Embedding{T}"/> of <see cref="float"/>; the store picks the input type from each value's
    /// runtime type (string, <see cref="TextContent"/>, <see cref="DataContent"/>, <see cref="AIContent"/>, custom).
    /// </summary>
    public IEmbeddingGenerator? EmbeddingGenerator { get; set; }

    /// <summary>What acknowledged writes survive (file-backed stores). Default: <see cref="Vlm2VecVectorStoreDurability.PowerLoss"/>.</summary>
    public Vlm2VecVectorStoreDurability Durability { get; set; } = Vlm2VecVectorStoreDurability.PowerLoss;

    /// <summary>How long opening waits for a file locked by another process before failing. Default: 5 seconds.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most threads one search uses on a large collection. Default: <see cref="Environment.ProcessorCount"/>; 1 searches on the calling thread only.</summary>
    public int MaxSearchParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>Receives information (schema changes) and errors; optional.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
