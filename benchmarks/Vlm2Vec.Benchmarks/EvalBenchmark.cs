using System.Diagnostics;
using Vlm2Vec.Evaluation;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// The evaluation engine without a model: loading the derived MMEB sets, then an MMEB-sized synthetic dataset (rows ×
/// candidates drawn from a shared pool of captions) through <see cref="MmebEvaluator"/> with an encoder that returns
/// seeded vectors at once, so the figures are the engine's own cost: preprocessing (tokenisation, collation), dedup and
/// scoring; and writing the reports. Args: [rows] [candidates per row] [dimension] (default 1000 1000 1536).
/// </summary>
internal sealed class EvalBenchmark : IBenchmark
{
    public string Name => "eval";

    public string Description => "MMEB evaluation engine overhead: data loading rows/s, preprocessing inputs/s, scoring row-candidates/s, report writing.";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        var rows = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1000;
        var candidates = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000;
        var dimension = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1536;

        var clock = Stopwatch.StartNew();
        var derived = await MmebDataLoader.LoadAsync([context.DataPath("mmeb", "derived")], new MmebDataLoadOptions { ImageRoot = context.DataPath() });
        var loaded = derived.Sum(d => d.Rows.Count);
        BenchmarkContext.Report($"load derived jsonl (4 files, image checks on): {loaded} rows in {clock.Elapsed.TotalMilliseconds:N0} ms, {loaded / clock.Elapsed.TotalSeconds:N0} rows/s");

        var pool = Enumerable.Range(0, Math.Max(candidates * 2, 2000)).Select(i => $"caption number {i}: a photo of object {i % 97} on a table").ToArray();
        var random = new Random(7);
        var synthetic = new MmebEvalDataset
        {
            Name = "synthetic_ret",
            ImageRoot = Path.GetTempPath(),
            MetaTask = MmebMetaTask.Retrieval,
            Rows = Enumerable.Range(0, rows).Select(r => new MmebEvalRow
            {
                QueryText = $"Find an image caption describing the given everyday image. Query {r}\n",
                TargetTexts = Enumerable.Range(0, candidates).Select(_ => pool[random.Next(pool.Length)]).ToArray(),
                TargetImagePaths = new string[candidates].Select(_ => string.Empty).ToArray(),
            }).ToList(),
        };

        using var encoder = new SeededEncoder(Vlm2VecPreprocessor.FromFolder(context.DataPath("tokenizer", "qwen2-vl")), dimension);
        var evaluator = new MmebEvaluator(new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = 64 }), new MmebEvaluationOptions { ComputeNdcg = true });
        BenchmarkContext.ResetPeakWorkingSet();
        var result = await evaluator.EvaluateAsync([synthetic]);
        var score = result.Datasets[0];
        var inputs = score.UniqueQueries + score.UniqueCandidates;
        BenchmarkContext.Report($"synthetic: {rows} rows x {candidates} candidates ({score.CandidateSlots:N0} slots) -> {score.UniqueQueries} + {score.UniqueCandidates} unique inputs, dimension {dimension}");
        BenchmarkContext.Report($"embed (preprocess + collate + zero-cost encoder): {score.EmbeddingTime.TotalMilliseconds:N0} ms, {inputs / score.EmbeddingTime.TotalSeconds:N0} inputs/s");
        BenchmarkContext.Report($"score: {score.ScoringTime.TotalMilliseconds:N0} ms, {score.CandidateSlots / score.ScoringTime.TotalSeconds / 1e6:N1} M row-candidates/s (dot products of {dimension} floats)");

        var folder = Path.Combine(Path.GetTempPath(), $"vlm2vec-eval-bench-{Guid.NewGuid():N}");
        try
        {
            clock.Restart();
            await MmebReportWriter.WriteAsync(result, folder);
            BenchmarkContext.Report($"reports (json, md, html; no images): {clock.Elapsed.TotalMilliseconds:N0} ms");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        BenchmarkContext.Report($"peak RSS {BenchmarkContext.PeakWorkingSetMiB():N0} MiB");
    }

    private sealed class SeededEncoder(Vlm2VecPreprocessor preprocessor, int dimension) : IVlm2VecEncoder
    {
        public Vlm2VecModelInfo Info { get; } = new() { ModelId = "bench/seeded", Dimension = dimension };

        public Vlm2VecPreprocessor Preprocessor { get; } = preprocessor;

        public Task<float[][]> EncodeAsync(CollatedBatch batch, CancellationToken cancellationToken = default)
        {
            var vectors = new float[batch.BatchSize][];
            for (var row = 0; row < batch.BatchSize; row++)
            {
                var seed = 17;
                for (var col = 0; col < batch.SequenceLength; col++)
                {
                    seed = seed * 31 + (int)batch.InputIds[row * batch.SequenceLength + col];
                }

                var random = new Random(seed);
                var vector = new float[dimension];
                for (var i = 0; i < dimension; i++)
                {
                    vector[i] = (float)random.NextDouble() - 0.5f;
                }

                vectors[row] = vector;
            }

            return Task.FromResult(vectors);
        }

        public void Dispose()
        {
        }
    }
}
