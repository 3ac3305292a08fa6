using System.Diagnostics;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// End-to-end preprocessing through <see cref="Vlm2VecPreprocessor"/>: MMEB prompt, JPEG decode, Qwen2-VL image
/// processor, tokenisation, placeholder expansion, then collation of 16-row batches. Args: [images] (default 200).
/// </summary>
internal sealed class PreprocessBenchmark : IBenchmark
{
    public string Name => "preprocess";

    public string Description => "Vlm2VecPreprocessor.Prepare inputs/s (Caltech-101 images + text, 1 thread and all cores) and Collate ms per 16 rows.";

    public Task RunAsync(BenchmarkContext context, string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 200;
        var preprocessor = Vlm2VecPreprocessor.FromFolder(context.DataPath("tokenizer", "qwen2-vl"));
        var images = Directory.EnumerateFiles(context.DataPath("classification", "caltech101-test10", "images"), "*.jpg", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).Take(count).ToList();
        var cls = MmebCatalog.Get("ImageNet-1K");
        var t2i = MmebCatalog.Get("MSCOCO_t2i");
        var inputs = images.SelectMany((path, i) => new[]
        {
            cls.CreateQuery(image: ImageInput.FromFile(path)),
            t2i.CreateQuery($"A photo of object number {i} seen from the side, on a plain background."),
        }).ToList();

        foreach (var input in inputs.Take(8))
        {
            preprocessor.Prepare(input);
        }

        var sw = Stopwatch.StartNew();
        var prepared = inputs.Select(preprocessor.Prepare).ToList();
        var sequential = inputs.Count / sw.Elapsed.TotalSeconds;

        sw.Restart();
        var parallel = new Vlm2Vec.Preprocessing.PreparedInput[inputs.Count];
        Parallel.For(0, inputs.Count, i => parallel[i] = preprocessor.Prepare(inputs[i]));
        var concurrent = inputs.Count / sw.Elapsed.TotalSeconds;

        var tokens = prepared.Sum(p => (long)p.Length);
        BenchmarkContext.Report($"prepare: {inputs.Count} inputs ({images.Count} images), {tokens / (double)inputs.Count:N0} tokens/input on average");
        BenchmarkContext.Report($"prepare 1 thread: {sequential:N1} inputs/s; {Environment.ProcessorCount} threads: {concurrent:N1} inputs/s");

        var batches = prepared.Chunk(16).ToList();
        var batchIndex = 0;
        var rate = BenchmarkContext.MeasureRate(() => preprocessor.Collate(batches[batchIndex++ % batches.Count]), minSeconds: 2);
        BenchmarkContext.Report($"collate 16 rows: {1000 / rate:N2} ms/batch");
        BenchmarkContext.Report($"peak RSS {BenchmarkContext.PeakWorkingSetMiB():N0} MiB");
        return Task.CompletedTask;
    }
}
