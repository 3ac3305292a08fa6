namespace Vlm2Vec.Cli.Output;

/// <summary>One line of an <see cref="IProgressView"/>.</summary>
internal interface IProgressItem
{
    /// <summary>Sets the work done so far (it may go down, e.g. when a transfer restarts).</summary>
    void Update(double value);

    /// <summary>Marks the work finished, with an optional one-word status (<c>cached</c>, <c>downloaded</c>).</summary>
    void Complete(string? status = null);
}
