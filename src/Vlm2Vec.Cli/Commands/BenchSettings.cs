namespace Vlm2Vec.Cli.Commands;

/// <summary>The settings of one <c>vlm2vec bench</c> run.</summary>
/// <param name="BatchSizes">Batch sizes, in the order measured.</param>
/// <param name="Texts">Distinct text queries (0: no text rows).</param>
/// <param name="Images">Distinct image queries (0: no image rows).</param>
/// <param name="ImageSize">Side of the synthetic images, pixels (not used with an image folder).</param>
/// <param name="ImageSource">Where the images come from, in words.</param>
/// <param name="DurationSeconds">Least timed seconds per row (each row also embeds every distinct input at least once).</param>
/// <param name="Threads">Engine threads asked for; null: the engine's default.</param>
internal sealed record BenchSettings(
    IReadOnlyList<int> BatchSizes,
    int Texts,
    int Images,
    int ImageSize,
    string ImageSource,
    double DurationSeconds,
    int? Threads);
