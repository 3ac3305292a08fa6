namespace Vlm2Vec.Cli.Search;

/// <summary>A file that could not be indexed, and why.</summary>
internal sealed record IndexFailure(string Key, string Reason);
