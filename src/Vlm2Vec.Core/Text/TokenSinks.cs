namespace Vlm2Vec.Preprocessing;

/// <summary>Appends ids to a <see cref="List{T}"/>.</summary>
internal readonly struct ListTokenSink(List<int> destination) : ITokenSink
{
    public void Add(int id) => destination.Add(id);

    public void AddRange(scoped ReadOnlySpan<int> ids) => destination.AddRange(ids);
}

/// <summary>Counts ids without keeping them.</summary>
internal struct CountingTokenSink : ITokenSink
{
    public int Count { get; private set; }

    public void Add(int id) => Count++;

    public void AddRange(scoped ReadOnlySpan<int> ids) => Count += ids.Length;
}

/// <summary>Writes ids into a caller's span; keeps counting past its end so the caller learns the size needed.</summary>
internal ref struct SpanTokenSink(Span<int> destination) : ITokenSink
{
    private readonly Span<int> _destination = destination;

    public int Count { get; private set; }

    public readonly bool Overflowed => Count > _destination.Length;

    public void Add(int id)
    {
        if (Count < _destination.Length)
        {
            _destination[Count] = id;
        }

        Count++;
    }

    public void AddRange(scoped ReadOnlySpan<int> ids)
    {
        if (Count + ids.Length <= _destination.Length)
        {
            ids.CopyTo(_destination[Count..]);
        }
        else if (Count < _destination.Length)
        {
            ids[..(_destination.Length - Count)].CopyTo(_destination[Count..]);
        }

        Count += ids.Length;
    }
}
