using Microsoft.Extensions.AI;
using Vlm2Vec.Extensions.AI.VectorData;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>A store for one test: in memory, or on a file in a temporary folder (which <see cref="Reopen"/> closes and opens again).</summary>
internal sealed class StoreUnderTest : IDisposable
{
    private readonly TempFolder? _folder;
    private readonly IEmbeddingGenerator? _generator;

    public StoreUnderTest(bool persisted, IEmbeddingGenerator? generator = null)
    {
        _generator = generator;
        if (persisted)
        {
            _folder = new TempFolder("vlm2vec-vs");
            Path = _folder.Combine("store.db");
        }

        Store = new Vlm2VecVectorStore(Path, generator);
    }

    public string? Path { get; }

    public Vlm2VecVectorStore Store { get; private set; }

    /// <summary>File-backed: disposes the store (closing the file) and opens a new one on it. In memory: the same store.</summary>
    public Vlm2VecVectorStore Reopen()
    {
        if (Path is not null)
        {
            Store.Dispose();
            Store = new Vlm2VecVectorStore(Path, _generator);
        }

        return Store;
    }

    public void Dispose()
    {
        Store.Dispose();
        _folder?.Dispose();
    }
}
