namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>What an acknowledged write of a file-backed <see cref="Vlm2VecVectorStore"/> survives.</summary>
public enum Vlm2VecVectorStoreDurability
{
    /// <summary>
    /// A killed process and a power loss or OS crash: each commit waits for the write-ahead log to reach the disk
    /// (SQLite <c>synchronous=FULL</c>). The default.
    /// </summary>
    PowerLoss,

    /// <summary>
    /// A killed or crashed process, but not a power loss or OS crash, which may lose the last commits (never corrupt the
    /// file). Faster on slow disks (SQLite <c>synchronous=NORMAL</c> in WAL mode).
    /// </summary>
    ProcessCrash,
}
