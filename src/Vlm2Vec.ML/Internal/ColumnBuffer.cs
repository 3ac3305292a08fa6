using Microsoft.ML;
using Microsoft.ML.Data;

namespace Vlm2Vec.ML;

/// <summary>
/// Holds the values of one pass-through column for the rows a batching cursor has read ahead, so that the cursor can
/// serve row i's values while its source is already at row i + n. Vector values are deep-copied in and out (a source
/// may reuse its buffers from row to row, and a consumer owns what it receives).
/// </summary>
internal abstract class ColumnBuffer
{
    public abstract void Capture(int slot);

    public abstract Delegate Getter(Func<int> currentSlot);

    public static ColumnBuffer Create(DataViewRowCursor source, DataViewSchema.Column column, int capacity) =>
        (ColumnBuffer)Activator.CreateInstance(typeof(ColumnBuffer<>).MakeGenericType(column.Type.RawType), source, column, capacity)!;
}

/// <summary>The buffer of a column of raw type <typeparamref name="T"/>.</summary>
internal sealed class ColumnBuffer<T> : ColumnBuffer
{
    private static readonly InCopier<T>? Copier = VBufferCopier.For<T>();
    private readonly ValueGetter<T> _source;
    private readonly T[] _values;
    private T _scratch = default!;

    public ColumnBuffer(DataViewRowCursor source, DataViewSchema.Column column, int capacity)
    {
        _source = source.GetGetter<T>(column);
        _values = new T[capacity];
    }

    public override void Capture(int slot)
    {
        if (Copier is null)
        {
            _source(ref _values[slot]);
        }
        else
        {
            _source(ref _scratch);
            Copier(in _scratch, ref _values[slot]);
        }
    }

    public override Delegate Getter(Func<int> currentSlot)
    {
        ValueGetter<T> getter = Copier is null
            ? (ref T value) => value = _values[currentSlot()]
            : (ref T value) => Copier(in _values[currentSlot()], ref value);
        return getter;
    }
}

/// <summary>Copies a value into a destination that owns its buffers.</summary>
internal delegate void InCopier<T>(in T source, ref T destination);

/// <summary>Deep copies of <see cref="VBuffer{T}"/> values, for any item type.</summary>
internal static class VBufferCopier
{
    /// <summary>A deep copier when <typeparamref name="T"/> is a <see cref="VBuffer{T}"/>; null for value-like types.</summary>
    public static InCopier<T>? For<T>()
    {
        var type = typeof(T);
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(VBuffer<>))
        {
            return null;
        }

        var method = typeof(VBufferCopier).GetMethod(nameof(Copy), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type.GetGenericArguments()[0]);
        return (InCopier<T>)method.CreateDelegate(typeof(InCopier<T>));
    }

    private static void Copy<TItem>(in VBuffer<TItem> source, ref VBuffer<TItem> destination) => source.CopyTo(ref destination);
}
