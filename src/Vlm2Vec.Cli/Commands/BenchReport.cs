namespace Vlm2Vec.Cli.Commands;

/// <summary>What <c>vlm2vec bench</c> prints with <c>--json</c>: the model, the machine, the settings and one row per workload and batch size.</summary>
/// <param name="ModelId">The model's id.</param>
/// <param name="Engine">The engine that ran it (e.g. <c>onnxruntime-cpu</c>, <c>torchsharp-cpu</c>).</param>
/// <param name="Device">The device, from the engine name (<c>cpu</c>, <c>cuda</c>, …).</param>
/// <param name="Dimension">The embedding dimension.</param>
/// <param name="DType">The weights' dtype.</param>
/// <param name="Machine">The machine and its load before and after.</param>
/// <param name="Settings">What was measured and how.</param>
/// <param name="Results">One row per workload and batch size, texts first.</param>
/// <param name="PeakWorkingSetMiB">Peak working set of the whole run (MiB).</param>
internal sealed record BenchReport(
    string ModelId,
    string Engine,
    string Device,
    int Dimension,
    string DType,
    BenchMachine Machine,
    BenchSettings Settings,
    IReadOnlyList<BenchMeasurement> Results,
    double PeakWorkingSetMiB);
