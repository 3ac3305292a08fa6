namespace Vlm2Vec.Cli.Output;

/// <summary>A progress display a verb adds items to; safe to use from several threads.</summary>
internal interface IProgressView
{
    /// <summary>Adds a line for one piece of work of <paramref name="maxValue"/> units (bytes or items).</summary>
    IProgressItem Add(string description, double maxValue);
}
