using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Modeling;
using Vlm2Vec.TorchSharp.Training;
using T = Vlm2Vec.TorchSharp.Tests.Modeling.TinyQwen2Vl;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>Synthetic prepared batches for the tiny test model (vocabulary 100, image token 93, pad 95).</summary>
internal static class TinyTrainingData
{
    public static BatchCollator Collator(Qwen2VlConfig config) =>
        new(BatchCollatorOptions.FromConfig(config, T.PadToken));

    /// <summary>
    /// <paramref name="pairs"/> query/positive pairs (every third query carries a 4×4-patch image, lengths vary) and
    /// <paramref name="negatives"/> text negatives per query, laid out [pos, neg…] per query.
    /// </summary>
    public static ContrastiveBatch Batch(int pairs, int negatives = 0, int seed = 1)
    {
        var random = new Random(seed);
        var queries = new List<PreparedInput>();
        var examples = new List<PreparedExample>();
        for (var i = 0; i < pairs; i++)
        {
            var query = i % 3 == 0 ? ImageRow(random, 2 + (i % 4), seed + i) : TextRow(random, 3 + (i % 5));
            var positive = TextRow(random, 2 + (i % 3));
            var negs = Enumerable.Range(0, negatives).Select(_ => TextRow(random, 2 + random.Next(3))).ToArray();
            examples.Add(new PreparedExample(i, query, positive, negs));
        }

        return ContrastiveBatch.From(examples);
    }

    public static PreparedInput TextRow(Random random, int length)
    {
        var ids = new int[length];
        for (var j = 0; j < length; j++)
        {
            ids[j] = 3 + random.Next(80);
        }

        return new PreparedInput(ids, [], "text");
    }

    public static PreparedInput ImageRow(Random random, int textLength, int pixelSeed)
    {
        var image = new ProcessedImage(T.Pixels(1, 4, 4, pixelSeed), 1, 4, 4, T.PatchRow);
        var ids = new int[4 + textLength];
        Array.Fill(ids, T.ImageToken, 0, 4);
        for (var j = 4; j < ids.Length; j++)
        {
            ids[j] = 3 + random.Next(80);
        }

        return new PreparedInput(ids, [image], "image");
    }
}
