namespace Vlm2Vec.Cli.Commands;

/// <summary>A count of files and their bytes, for the <c>pull</c> summary.</summary>
internal sealed class PullTally
{
    public int Files { get; private set; }

    public long Bytes { get; private set; }

    public void Add(long bytes)
    {
        Files++;
        Bytes += bytes;
    }
}
