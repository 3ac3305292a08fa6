namespace Vlm2Vec.Cli.Output;

/// <summary>What the values of a progress display count, which decides its columns and number format.</summary>
internal enum ProgressUnit
{
    /// <summary>Items (files, images, batches).</summary>
    Items,

    /// <summary>Bytes: shown as sizes, with transfer speed.</summary>
    Bytes,
}
