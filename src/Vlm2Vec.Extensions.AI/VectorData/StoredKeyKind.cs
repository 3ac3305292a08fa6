namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>How a collection's keys are stored: text, a Guid, or a 64-bit integer (<see cref="int"/> and <see cref="long"/> keys).</summary>
internal enum StoredKeyKind
{
    /// <summary><see cref="string"/> keys (SQLite TEXT).</summary>
    String,

    /// <summary><see cref="Guid"/> keys (SQLite TEXT in the 'D' format).</summary>
    Guid,

    /// <summary><see cref="int"/> and <see cref="long"/> keys (SQLite INTEGER PRIMARY KEY), kept as <see cref="long"/> in memory.</summary>
    Int64,
}
