namespace Vlm2Vec.Cli.Search;

/// <summary>
/// A store collection was built with another model (model id or dimension) than the one given: its vectors cannot be
/// compared with this model's. Reported as an input error (exit code 3).
/// </summary>
internal sealed class IndexModelMismatchException : Exception
{
    public IndexModelMismatchException()
    {
    }

    public IndexModelMismatchException(string message)
        : base(message)
    {
    }

    public IndexModelMismatchException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
