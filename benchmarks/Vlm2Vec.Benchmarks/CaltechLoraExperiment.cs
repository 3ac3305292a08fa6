using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// The adaptation half of the training experiment (tools/experiments/fashion-mnist.sh): Caltech-101 from shared data
/// (10 images per class) split 7 / 3, <c>prepare</c> writes <c>train.jsonl</c> (image + classification instruction →
/// class name) and <c>test.jsonl</c>; <c>eval</c> measures image → class-name P@1 over the 101 names of a model folder,
/// optionally with a PEFT adapter. Arguments: <c>prepare --out DIR [--train-per-class 7]</c> |
/// <c>eval --model DIR [--adapter DIR] --data DIR [--max-pixels N]</c>.
/// </summary>
internal sealed class CaltechLoraExperiment : IBenchmark
{
    public string Name => "caltech-lora";

    public string Description => "Experiment: Caltech-101 7/3 split as MMEB-train jsonl (prepare), image->class P@1 with an optional adapter (eval)";

    public async Task RunAsync(BenchmarkContext context, string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "prepare":
                Prepare(context, FashionMnistExperiment.Arg(args, "--out") ?? throw new ArgumentException("prepare needs --out DIR"),
                    int.Parse(FashionMnistExperiment.Arg(args, "--train-per-class") ?? "7", CultureInfo.InvariantCulture));
                break;
            case "eval":
                await EvaluateAsync(
                    FashionMnistExperiment.Arg(args, "--model") ?? throw new ArgumentException("eval needs --model DIR"),
                    FashionMnistExperiment.Arg(args, "--adapter"),
                    FashionMnistExperiment.Arg(args, "--data") ?? throw new ArgumentException("eval needs --data DIR (the prepare output)"),
                    FashionMnistExperiment.Arg(args, "--max-pixels") is { } max ? long.Parse(max, CultureInfo.InvariantCulture) : null);
                break;
            default:
                throw new ArgumentException("Usage: caltech-lora prepare --out DIR [--train-per-class 7] | eval --model DIR [--adapter DIR] --data DIR [--max-pixels N]");
        }
    }

    private static string Label(string folderName) => folderName.Replace('_', ' ');

    private static void Prepare(BenchmarkContext context, string output, int trainPerClass)
    {
        var root = context.DataPath("classification", "caltech101-test10", "images");
        Directory.CreateDirectory(output);
        using var train = new StreamWriter(Path.Combine(output, "train.jsonl"));
        using var test = new StreamWriter(Path.Combine(output, "test.jsonl"));
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        File.WriteAllLines(Path.Combine(output, "classes.txt"), classes.Select(c => Label(c!)));
        var options = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        int trainRows = 0, testRows = 0;
        foreach (var name in classes)
        {
            var files = Directory.GetFiles(Path.Combine(root, name!), "*.jpg").Order(StringComparer.Ordinal).ToList();
            for (var i = 0; i < files.Count; i++)
            {
                var row = JsonSerializer.Serialize(new Dictionary<string, string>
                {
                    ["qry"] = FashionMnistExperiment.QueryPrompt,
                    ["qry_image_path"] = files[i],
                    ["pos_text"] = Label(name!),
                    ["dataset"] = "caltech101",
                }, options);
                if (i < trainPerClass)
                {
                    train.WriteLine(row);
                    trainRows++;
                }
                else
                {
                    test.WriteLine(row);
                    testRows++;
                }
            }
        }

        BenchmarkContext.Report($"{classes.Count} classes: {trainRows} training rows, {testRows} test rows in {output}");
    }

    private static async Task EvaluateAsync(string model, string? adapter, string data, long? maxPixels)
    {
        var labels = File.ReadAllLines(Path.Combine(data, "classes.txt"));
        var index = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);
        var queries = new List<MultimodalInput>();
        var truth = new List<int>();
        foreach (var line in File.ReadLines(Path.Combine(data, "test.jsonl")))
        {
            using var row = JsonDocument.Parse(line);
            queries.Add(new MultimodalInput
            {
                Prompt = row.RootElement.GetProperty("qry").GetString(),
                Images = [ImageInput.FromFile(row.RootElement.GetProperty("qry_image_path").GetString()!)],
            });
            truth.Add(index[row.RootElement.GetProperty("pos_text").GetString()!]);
        }

        var preprocessing = maxPixels is { } max
            ? new PreprocessorOptions { ImageProcessor = new Vlm2Vec.Preprocessing.Qwen2VlImageProcessorOptions { MinPixels = Math.Min(56 * 56, max), MaxPixels = max } }
            : null;
        var result = await RetrievalEvaluation.RunAsync(model, adapter, queries, truth, labels, preprocessing);
        RetrievalEvaluation.Print($"caltech-101 test ({model}{(adapter is null ? string.Empty : " + " + adapter)})", result, labels, perClass: false);
    }
}
