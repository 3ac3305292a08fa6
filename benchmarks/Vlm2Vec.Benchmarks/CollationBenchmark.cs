using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Prompt formatting and batch collation (padding, masks, <c>get_rope_index</c> positions, patch concatenation) on
/// synthetic batches shaped like VLM2Vec traffic. Args: [rows] (default 32).
/// </summary>
internal sealed class CollationBenchmark : IBenchmark
{
    public string Name => "collation";

    public string Description => "PromptFormatter strings/s and BatchCollator batches/s (VLM2Vec 1-D rows and chat M-RoPE rows).";

    public Task RunAsync(BenchmarkContext context, string[] args)
    {
        var rows = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 32;
        var formatter = new PromptFormatter(new PromptFormatterOptions { ImagePlaceholder = "<|image_pad|>" });
        var image = ImageInput.FromBytes(new byte[] { 1 }, "x");
        var query = MmebCatalog.Get("OK-VQA").CreateQuery("What sport can you use this for?", image);
        var text = MmebCatalog.Get("MSCOCO_t2i").CreateQuery("A man with a red helmet on a small moped on a dirt road.");
        var formatRate = BenchmarkContext.MeasureRate(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                formatter.Format(i % 2 == 0 ? query : text);
            }
        }, minSeconds: 2);
        BenchmarkContext.Report($"format: {formatRate * 1000:N0} prompts/s");

        var collator = new BatchCollator(BatchCollatorOptions.FromConfig(new Qwen2VlConfig(), 151643));
        foreach (var (label, batch) in new[] { ("vlm2vec (1-D)", Vlm2VecBatch(rows)), ("chat (M-RoPE)", ChatBatch(rows)) })
        {
            CollatedBatch? last = null;
            var rate = BenchmarkContext.MeasureRate(() => last = collator.Collate(batch), minSeconds: 3);
            BenchmarkContext.Report(
                $"collate {label}: {rows} rows x {last!.SequenceLength} tokens, {last.TotalPatches} patch rows ({last.PixelValues.Length * 4 / 1048576.0:N0} MiB pixels): " +
                $"{1000 / rate:N2} ms/batch, {rate * rows:N0} rows/s");
        }

        BenchmarkContext.Report($"peak RSS {BenchmarkContext.PeakWorkingSetMiB():N0} MiB");
        return Task.CompletedTask;
    }

    // Half the rows: one 980x980 image (grid 1x70x70 -> 1225 tokens) + 12 text tokens; half: 30 text tokens.
    private static List<PreparedInput> Vlm2VecBatch(int rows)
    {
        var list = new List<PreparedInput>(rows);
        var image = new ProcessedImage(new float[70 * 70 * 1176], 1, 70, 70, 1176);
        for (var r = 0; r < rows; r++)
        {
            list.Add(r % 2 == 0
                ? new PreparedInput([.. Enumerable.Repeat(151655, 1225), .. Enumerable.Range(100, 12)], [image], "image")
                : new PreparedInput([.. Enumerable.Range(100, 30)], [], "text"));
        }

        return list;
    }

    // Every row: text, vision start, a 1x28x28 image (196 tokens), vision end, text.
    private static List<PreparedInput> ChatBatch(int rows)
    {
        var list = new List<PreparedInput>(rows);
        var image = new ProcessedImage(new float[28 * 28 * 1176], 1, 28, 28, 1176);
        for (var r = 0; r < rows; r++)
        {
            list.Add(new PreparedInput(
                [.. Enumerable.Range(100, 10 + r % 7), 151652, .. Enumerable.Repeat(151655, 196), 151653, .. Enumerable.Range(200, 8)], [image], "chat"));
        }

        return list;
    }
}
