namespace Vlm2Vec.Cli.Output;

/// <summary>The progress display of <c>--quiet</c>: shows nothing.</summary>
internal sealed class SilentProgressView : IProgressView, IProgressItem
{
    public static SilentProgressView Instance { get; } = new();

    public IProgressItem Add(string description, double maxValue) => this;

    public void Update(double value)
    {
    }

    public void Complete(string? status = null)
    {
    }
}
