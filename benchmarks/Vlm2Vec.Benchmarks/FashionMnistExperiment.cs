using System.Globalization;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// The Fashion-MNIST experiment (tools/experiments/fashion-mnist.sh): <c>prepare</c> turns the IDX training set into
/// PNG files and an MMEB-train style jsonl (image query with the classification instruction → label text), and
/// <c>eval</c> measures image → label-text P@1 of a trained model folder on the 10k test set (10 label texts).
/// Arguments: <c>prepare --out DIR [--source DIR] [--count N]</c> | <c>eval --model DIR [--source DIR] [--count N]</c>.
/// </summary>
internal sealed class FashionMnistExperiment : IBenchmark
{
    /// <summary>MMEB's classification instruction (ImageNet-1K) as the query string VLM2Vec trains on.</summary>
    public const string QueryPrompt = "<|image_1|>\nRepresent the given image for classification\n";

    public static readonly string[] Labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public string Name => "fashion-mnist";

    public string Description => "Experiment: Fashion-MNIST IDX -> PNG + train.jsonl (prepare), image->label P@1 of a trained model (eval)";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        var source = Arg(args, "--source") ?? "/usr/share/datasets/fashion-mnist";
        var count = Arg(args, "--count") is { } c ? int.Parse(c, CultureInfo.InvariantCulture) : int.MaxValue;
        switch (args.FirstOrDefault())
        {
            case "prepare":
                Prepare(source, Arg(args, "--out") ?? throw new ArgumentException("prepare needs --out DIR"), count);
                break;
            case "eval":
                await EvaluateAsync(source, Arg(args, "--model") ?? throw new ArgumentException("eval needs --model DIR"), count);
                break;
            default:
                throw new ArgumentException("Usage: fashion-mnist prepare --out DIR [--source DIR] [--count N] | eval --model DIR [--source DIR] [--count N]");
        }
    }

    private static void Prepare(string source, string output, int count)
    {
        var (n, rows, columns, pixels) = IdxFile.ReadImages(Path.Combine(source, "train-images-idx3-ubyte.gz"));
        var labels = IdxFile.ReadLabels(Path.Combine(source, "train-labels-idx1-ubyte.gz"));
        n = Math.Min(n, count);
        var imageFolder = Path.Combine(output, "train");
        Directory.CreateDirectory(imageFolder);
        using var jsonl = new StreamWriter(Path.Combine(output, "train.jsonl"));
        for (var i = 0; i < n; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"train/{i:D5}.png");
            var path = Path.Combine(output, name);
            if (!File.Exists(path))
            {
                File.WriteAllBytes(path, Png(pixels, i, rows, columns));
            }

            jsonl.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["qry"] = QueryPrompt,
                ["qry_image_path"] = name,
                ["pos_text"] = Labels[labels[i]],
                ["dataset"] = "fashion-mnist",
            }));
        }

        BenchmarkContext.Report($"wrote {n} training rows to {Path.Combine(output, "train.jsonl")} ({imageFolder})");
    }

    private static async Task EvaluateAsync(string source, string model, int count)
    {
        var (n, rows, columns, pixels) = IdxFile.ReadImages(Path.Combine(source, "t10k-images-idx3-ubyte.gz"));
        var labels = IdxFile.ReadLabels(Path.Combine(source, "t10k-labels-idx1-ubyte.gz"));
        n = Math.Min(n, count);
        var queries = new List<MultimodalInput>(n);
        for (var i = 0; i < n; i++)
        {
            queries.Add(new MultimodalInput { Prompt = QueryPrompt, Images = [ImageInput.FromBytes(Png(pixels, i, rows, columns), $"t10k-{i}")] });
        }

        var result = await RetrievalEvaluation.RunAsync(model, null, queries, [.. labels.Take(n).Select(l => (int)l)], Labels);
        RetrievalEvaluation.Print($"fashion-mnist test ({model})", result, Labels, perClass: true);
    }

    internal static byte[] Png(byte[] pixels, int index, int rows, int columns)
    {
        using var image = Image.LoadPixelData<L8>(pixels.AsSpan(index * rows * columns, rows * columns), columns, rows);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    internal static string? Arg(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
