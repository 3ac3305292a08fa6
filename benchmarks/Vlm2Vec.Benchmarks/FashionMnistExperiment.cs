using System.Globalization;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// The Fashion-MNIST experiment (tools/experiments/fashion-mnist.sh): <c>prepare</c> turns the IDX training set into
/// PNG files and an MMEB-train style jsonl (image query with the classification instruction → label text), and
/// <c>eval</c> measures image → label-text P@1 of a trained model folder on the 10k test set (10 label texts).
/// Arguments: <c>prepare --out DIR [--source DIR] [--count N] [--t2i]</c> | <c>eval --model DIR [--source DIR] [--count N]</c>
/// | <c>eval-data --out DIR [--source DIR] [--count N]</c> (MMEB-eval jsonl of the test set) | <c>samples --out DIR
/// [--per-class N]</c> (test images named by class, for the demo).
/// With <c>--t2i</c>, <c>prepare</c> adds one text → image row per training image (dataset <c>fashion-mnist-t2i</c>): a caption
/// of the image's class, drawn from a few phrasings, with MMEB's text → image instruction; the target is the image
/// with MMEB's target-side instruction. The demo model (tools/demo-model) is trained on both directions.
/// </summary>
internal sealed class FashionMnistExperiment : IBenchmark
{
    /// <summary>MMEB's classification instruction (ImageNet-1K) as the query string VLM2Vec trains on.</summary>
    public const string QueryPrompt = "<|image_1|>\nRepresent the given image for classification\n";

    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly string[] Labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>MMEB's text → image instruction (MSCOCO_t2i) as the query prefix.</summary>
    public const string TextToImageInstruction = "Find me an everyday image that matches the given caption: ";

    /// <summary>MMEB's target-side image prompt for retrieval.</summary>
    public const string TargetImagePrompt = "<|image_1|>\nRepresent the given image.\n";

    /// <summary>Ways to name each class in a caption (the first is the one evaluation uses).</summary>
    public static readonly string[][] Names =
    [
        ["a t-shirt", "a top", "a tee"],
        ["trousers", "pants", "jeans"],
        ["a pullover", "a sweater", "a jumper"],
        ["a dress", "a gown"],
        ["a coat", "a jacket"],
        ["a sandal", "sandals"],
        ["a shirt", "a blouse"],
        ["a sneaker", "sneakers", "a running shoe"],
        ["a bag", "a handbag", "a purse"],
        ["an ankle boot", "a boot", "boots"],
    ];

    private static readonly string[] CaptionTemplates = ["{0}", "a photo of {0}", "a picture of {0}", "{0}, product photo"];

    /// <summary>File-name stems of the classes (samples).</summary>
    public static readonly string[] Slugs = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"];

    public string Name => "fashion-mnist";

    public string Description => "Experiment: Fashion-MNIST IDX -> PNG + train.jsonl (prepare), image->label P@1 of a trained model (eval)";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        var source = Arg(args, "--source") ?? "/usr/share/datasets/fashion-mnist";
        var count = Arg(args, "--count") is { } c ? int.Parse(c, CultureInfo.InvariantCulture) : int.MaxValue;
        switch (args.FirstOrDefault())
        {
            case "prepare":
                Prepare(source, Arg(args, "--out") ?? throw new ArgumentException("prepare needs --out DIR"), count, args.Contains("--t2i"));
                break;
            case "eval-data":
                WriteEvalData(source, Arg(args, "--out") ?? throw new ArgumentException("eval-data needs --out DIR"), count);
                break;
            case "samples":
                WriteSamples(source, Arg(args, "--out") ?? throw new ArgumentException("samples needs --out DIR"),
                    Arg(args, "--per-class") is { } k ? int.Parse(k, CultureInfo.InvariantCulture) : 5);
                break;
            case "eval":
                await EvaluateAsync(source, Arg(args, "--model") ?? throw new ArgumentException("eval needs --model DIR"), count);
                break;
            default:
                throw new ArgumentException("Usage: fashion-mnist prepare --out DIR [--source DIR] [--count N] [--t2i] | eval --model DIR [--source DIR] [--count N] | eval-data --out DIR [--source DIR] [--count N] | samples --out DIR [--per-class N]");
        }
    }

    private static void Prepare(string source, string output, int count, bool textToImage)
    {
        var random = new Random(7);
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

            jsonl.WriteLine(JsonSerializer.Serialize(
                new Dictionary<string, string>
                {
                    ["qry"] = QueryPrompt,
                    ["qry_image_path"] = name,
                    ["pos_text"] = Labels[labels[i]],
                    ["dataset"] = "fashion-mnist",
                },
                RelaxedJson));
        }

        for (var i = 0; textToImage && i < n; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"train/{i:D5}.png");
            jsonl.WriteLine(JsonSerializer.Serialize(
                new Dictionary<string, string>
                {
                    ["qry"] = TextToImageInstruction + Caption(labels[i], random) + "\n",
                    ["pos_text"] = TargetImagePrompt,
                    ["pos_image_path"] = name,
                    ["dataset"] = "fashion-mnist-t2i",
                },
                RelaxedJson));
        }

        BenchmarkContext.Report($"wrote {(textToImage ? 2 * n : n)} training rows to {Path.Combine(output, "train.jsonl")} ({imageFolder})");
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

    /// <summary>A caption of class <paramref name="label"/>: a random phrasing, or the first one without a generator.</summary>
    internal static string Caption(int label, Random? random)
    {
        var names = Names[label];
        return random is null
            ? string.Format(CultureInfo.InvariantCulture, CaptionTemplates[1], names[0])
            : string.Format(CultureInfo.InvariantCulture, CaptionTemplates[random.Next(CaptionTemplates.Length)], names[random.Next(names.Length)]);
    }

    /// <summary>
    /// MMEB-eval rows of the test set (held out from training): <c>fashion-mnist_cls.jsonl</c>, every test image against the
    /// 10 label texts, and <c>fashion-mnist_t2i.jsonl</c>, a caption of each class ×100 against 10 test images (its own and
    /// one of each other class). The positive is candidate 0; images are written to <c>test/</c>.
    /// </summary>
    private static void WriteEvalData(string source, string output, int count)
    {
        var (n, rows, columns, pixels) = IdxFile.ReadImages(Path.Combine(source, "t10k-images-idx3-ubyte.gz"));
        var labels = IdxFile.ReadLabels(Path.Combine(source, "t10k-labels-idx1-ubyte.gz"));
        n = Math.Min(n, count);
        Directory.CreateDirectory(Path.Combine(output, "test"));
        var byClass = Enumerable.Range(0, 10).Select(_ => new List<int>()).ToArray();
        string NameOf(int i) => string.Create(CultureInfo.InvariantCulture, $"test/{i:D5}.png");
        for (var i = 0; i < n; i++)
        {
            var path = Path.Combine(output, NameOf(i));
            if (!File.Exists(path))
            {
                File.WriteAllBytes(path, Png(pixels, i, rows, columns));
            }

            byClass[labels[i]].Add(i);
        }

        using (var cls = new StreamWriter(Path.Combine(output, "fashion-mnist_cls.jsonl")))
        {
            for (var i = 0; i < n; i++)
            {
                var candidates = new List<string> { Labels[labels[i]] };
                candidates.AddRange(Labels.Where((_, l) => l != labels[i]));
                cls.WriteLine(JsonSerializer.Serialize(new { qry_text = QueryPrompt, qry_img_path = NameOf(i), tgt_text = candidates, tgt_img_path = candidates.Select(_ => string.Empty) }, RelaxedJson));
            }
        }

        var random = new Random(11);
        var queries = 0;
        using (var t2i = new StreamWriter(Path.Combine(output, "fashion-mnist_t2i.jsonl")))
        {
            for (var label = 0; label < 10; label++)
            {
                for (var q = 0; q < 100 && q < byClass[label].Count; q++)
                {
                    var images = new List<string> { NameOf(byClass[label][q]) };
                    images.AddRange(Enumerable.Range(0, 10).Where(l => l != label && byClass[l].Count > 0).Select(l => NameOf(byClass[l][random.Next(byClass[l].Count)])));
                    t2i.WriteLine(JsonSerializer.Serialize(new { qry_text = TextToImageInstruction + Caption(label, null) + "\n", qry_img_path = string.Empty, tgt_text = images.Select(_ => TargetImagePrompt), tgt_img_path = images }, RelaxedJson));
                    queries++;
                }
            }
        }

        BenchmarkContext.Report($"wrote {n} classification rows and {queries} text → image rows to {output}");
    }

    /// <summary>The first <paramref name="perClass"/> test images of each class as <c>&lt;class&gt;-N.png</c> (the demo's sample images).</summary>
    private static void WriteSamples(string source, string output, int perClass)
    {
        var (n, rows, columns, pixels) = IdxFile.ReadImages(Path.Combine(source, "t10k-images-idx3-ubyte.gz"));
        var labels = IdxFile.ReadLabels(Path.Combine(source, "t10k-labels-idx1-ubyte.gz"));
        Directory.CreateDirectory(output);
        var written = new int[10];
        using var index = new StreamWriter(Path.Combine(output, "labels.csv"));
        index.WriteLine("file,label,test_index");
        for (var i = 0; i < n && written.Sum() < 10 * perClass; i++)
        {
            var label = labels[i];
            if (written[label] >= perClass)
            {
                continue;
            }

            written[label]++;
            var name = string.Create(CultureInfo.InvariantCulture, $"{Slugs[label]}-{written[label]}.png");
            File.WriteAllBytes(Path.Combine(output, name), Png(pixels, i, rows, columns));
            index.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name},{Labels[label]},{i}"));
        }

        BenchmarkContext.Report($"wrote {written.Sum()} sample images to {output}");
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
