namespace Vlm2Vec.Cli.Search;

/// <summary>One result of a search: its rank (1 = best), cosine similarity and the indexed item.</summary>
internal sealed record SearchHit(int Rank, double Score, IndexedItem Item);
