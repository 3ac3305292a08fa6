namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// A record on its way in: normalised key, data values in storage form by schema index, and one vector per schema
/// vector field (empty when the record has none for that field).
/// </summary>
internal sealed class PendingRow(object key, object?[] data, ReadOnlyMemory<float>[] vectors)
{
    public object Key { get; } = key;

    public object?[] Data { get; } = data;

    public ReadOnlyMemory<float>[] Vectors { get; } = vectors;
}
