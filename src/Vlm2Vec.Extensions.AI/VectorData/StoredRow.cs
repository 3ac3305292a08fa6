namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// One record as the store keeps it in memory: the normalised key (<see cref="string"/>, <see cref="Guid"/> or
/// <see cref="long"/>), the data values by schema index (storage form, see <see cref="DataFieldType"/>) and the slot
/// of its vectors in the collection's arenas. Rows are replaced, never mutated, once published.
/// </summary>
internal sealed class StoredRow(object key, object?[] data, int slot)
{
    public object Key { get; } = key;

    /// <summary>Data values by schema data-field index; shorter than the schema when fields were added later (missing = null).</summary>
    public object?[] Data { get; } = data;

    public int Slot { get; } = slot;

    /// <summary>The data value at <paramref name="index"/> as <typeparamref name="T"/> (default when absent or null); used by compiled filters.</summary>
    public static T? GetData<T>(StoredRow row, int index) =>
        (uint)index < (uint)row.Data.Length && row.Data[index] is T value ? value : default;
}
