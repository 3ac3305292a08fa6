using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Server.Batching;

/// <summary>One prepared input waiting in the batcher's queue, with where its vector goes.</summary>
internal sealed class PendingItem
{
    public PendingItem(EmbeddingJob job, int index, PreparedInput prepared, string modality, long enqueuedTimestamp)
    {
        Job = job;
        Index = index;
        Prepared = prepared;
        Modality = modality;
        EnqueuedTimestamp = enqueuedTimestamp;
        Patches = prepared.PatchCount;
    }

    public EmbeddingJob Job { get; }

    /// <summary>The input's position in its request.</summary>
    public int Index { get; }

    public PreparedInput Prepared { get; }

    /// <summary><c>text</c>, <c>image</c> or <c>image_text</c> (a metric tag).</summary>
    public string Modality { get; }

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of when it was queued.</summary>
    public long EnqueuedTimestamp { get; }

    /// <summary>Tokens (sequence length).</summary>
    public int Length => Prepared.Length;

    /// <summary>Image patch rows.</summary>
    public int Patches { get; }
}
