namespace Vlm2Vec.Cli.Commands;

/// <summary>One row of <c>vlm2vec bench</c>: one workload at one batch size, measured end to end.</summary>
/// <param name="Workload"><c>text</c> or <c>image</c>.</param>
/// <param name="BatchSize">Inputs per <c>EmbedAsync</c> call (and the embedder's largest encoder batch).</param>
/// <param name="Items">Inputs embedded while timing.</param>
/// <param name="Calls">Timed <c>EmbedAsync</c> calls.</param>
/// <param name="EncoderCalls">Calls of the encoder's <c>EncodeAsync</c> made by those (more than <paramref name="Calls"/> when the embedder splits a batch by its token or patch budget).</param>
/// <param name="Seconds">Wall time of the timed calls.</param>
/// <param name="ItemsPerSecond">Throughput: <paramref name="Items"/> / <paramref name="Seconds"/>.</param>
/// <param name="LatencyP50Ms">Median wall time of one call (one batch), milliseconds.</param>
/// <param name="LatencyP95Ms">95th percentile (nearest rank) of the same.</param>
/// <param name="OutsideEncoderShare">Share of the wall time spent outside <c>EncodeAsync</c> (decode, preprocess, tokenise, collate, pool), in [0, 1].</param>
/// <param name="PeakWorkingSetMiB">Peak working set of the process during this row (MiB); since start-up where the OS cannot reset it.</param>
internal sealed record BenchMeasurement(
    string Workload,
    int BatchSize,
    int Items,
    int Calls,
    int EncoderCalls,
    double Seconds,
    double ItemsPerSecond,
    double LatencyP50Ms,
    double LatencyP95Ms,
    double OutsideEncoderShare,
    double PeakWorkingSetMiB);
