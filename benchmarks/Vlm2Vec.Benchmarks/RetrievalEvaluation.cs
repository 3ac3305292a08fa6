using System.Diagnostics;
using System.Globalization;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Modeling;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Image → label-text retrieval P@1 for the experiments: embed the queries and the label texts with a trained model
/// folder (TorchSharp encoder, the serving preprocessing), take each query's most similar label, and compare.
/// </summary>
internal static class RetrievalEvaluation
{
    public sealed record Result(double PrecisionAt1, int Correct, int Total, double[] PerClass, TimeSpan Elapsed);

    public static async Task<Result> RunAsync(string modelFolder, string? adapterFolder, IReadOnlyList<MultimodalInput> queries, IReadOnlyList<int> labels, IReadOnlyList<string> labelTexts)
    {
        var clock = Stopwatch.StartNew();
        using var encoder = TorchSharpVlm2VecEncoder.FromPretrained(modelFolder, new Qwen2VlLoadOptions { AdapterPath = adapterFolder });
        var embedder = new Vlm2VecEmbedder(encoder, new EmbedderOptions { MaxBatchSize = 128, MaxBatchTokens = 1 << 20, MaxBatchPatches = 1 << 20 });
        var targets = await embedder.EmbedAsync([.. labelTexts.Select(t => new MultimodalInput { Prompt = t, Role = EmbeddingRole.Target })]);
        var correct = 0;
        var perClassCorrect = new int[labelTexts.Count];
        var perClassTotal = new int[labelTexts.Count];
        const int Slice = 1024;
        for (var start = 0; start < queries.Count; start += Slice)
        {
            var part = queries.Skip(start).Take(Slice).ToList();
            var vectors = await embedder.EmbedAsync(part);
            for (var i = 0; i < vectors.Length; i++)
            {
                var best = 0;
                var bestScore = float.NegativeInfinity;
                for (var c = 0; c < targets.Length; c++)
                {
                    var score = System.Numerics.Tensors.TensorPrimitives.Dot(vectors[i], targets[c]);
                    if (score > bestScore)
                    {
                        bestScore = score;
                        best = c;
                    }
                }

                var label = labels[start + i];
                perClassTotal[label]++;
                if (best == label)
                {
                    correct++;
                    perClassCorrect[label]++;
                }
            }
        }

        var perClass = perClassCorrect.Select((c, i) => perClassTotal[i] == 0 ? double.NaN : c / (double)perClassTotal[i]).ToArray();
        return new Result(correct / (double)queries.Count, correct, queries.Count, perClass, clock.Elapsed);
    }

    public static void Print(string name, Result result, IReadOnlyList<string> labelTexts, bool perClass)
    {
        BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture,
            $"{name}: P@1 = {result.PrecisionAt1:P2} ({result.Correct}/{result.Total}) over {labelTexts.Count} label texts, chance {1.0 / labelTexts.Count:P1}; evaluated in {result.Elapsed.TotalSeconds:F1} s"));
        if (perClass)
        {
            for (var c = 0; c < labelTexts.Count; c++)
            {
                BenchmarkContext.Report(string.Create(CultureInfo.InvariantCulture, $"  {labelTexts[c],-14} {result.PerClass[c]:P1}"));
            }
        }
    }
}
