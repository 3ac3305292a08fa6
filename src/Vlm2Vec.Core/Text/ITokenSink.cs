namespace Vlm2Vec.Preprocessing;

/// <summary>Where encoded ids go: a list, a caller's span, or only a count. Implemented by structs, so calls inline.</summary>
internal interface ITokenSink
{
    /// <summary>Takes one id.</summary>
    void Add(int id);

    /// <summary>Takes several ids.</summary>
    void AddRange(scoped ReadOnlySpan<int> ids);
}
