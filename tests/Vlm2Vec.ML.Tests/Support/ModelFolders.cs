using Vlm2Vec.TestSupport;

namespace Vlm2Vec.ML.Tests.Support;

/// <summary>A temporary hashing-model folder; the opened model is released from the process-wide cache on dispose.</summary>
internal sealed class HashingModelFolder : IDisposable
{
    private readonly TempFolder _folder = new("vlm2vec-ml");

    public HashingModelFolder(int dimension = 24)
    {
        Dimension = dimension;
        HashingEncoder.WriteModelFolder(_folder.Path, dimension);
    }

    public string Path => _folder.Path;

    public int Dimension { get; }

    public Vlm2VecEmbeddingOptions Options(string? image = "ImageBytes", string? text = null) => new()
    {
        ModelPath = Path,
        EncoderFactory = new HashingEncoderFactory(),
        ImageColumnName = image,
        TextColumnName = text,
        OutputColumnName = "Embedding",
    };

    public void Dispose()
    {
        ModelSessions.ReleaseFolder(Path);
        _folder.Dispose();
    }
}
