using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MlNetClassification;
using Vlm2Vec.ML;
using Vlm2Vec.TorchSharp.Training;

// Image classification with Vlm2Vec embeddings: encoded image bytes -> EmbedWithVlm2Vec -> SdcaMaximumEntropy,
// trained on one split and scored on a held-out split; with --fine-tune, the same pipeline again with FineTuneVlm2Vec
// in front. See README.md.
SampleOptions options;
try
{
    options = SampleOptions.Parse(args);
}
catch (ArgumentException ex)
{
    if (ex.Message.Length > 0)
    {
        Console.Error.WriteLine(ex.Message);
        Console.Error.WriteLine();
    }

    Console.Error.WriteLine(SampleOptions.Usage);
    return ex.Message.Length > 0 ? 2 : 0;
}

if (options.Threads is int threads)
{
    Vlm2Vec.TorchSharp.TorchSharpRuntime.EnsureLoaded();
    TorchSharp.torch.set_num_threads(threads);
}

if (options.UsesShippedModel && !File.Exists(Path.Combine(options.ModelFolder!, "vlm2vec.json")))
{
    Console.Error.WriteLine($"The shipped demo model is not in {options.ModelFolder}: pass --model <folder> or --demo-model <tokenizer folder>.");
    return 2;
}

var modelFolder = options.ModelFolder
    ?? DemoModel.Create(options.DemoModelTokenizerFolder!, Path.Combine(Path.GetTempPath(), "vlm2vec-mlnet-demo-model"));

var watch = Stopwatch.StartNew();
var (train, test) = options.Caltech101Folder is { } caltech
    ? Datasets.Caltech101(caltech, options.TrainCount, options.TestCount, options.Seed)
    : Datasets.FashionMnist(options.FashionMnistFolder!, options.TrainCount, options.TestCount, options.Seed);
var dataName = options.Caltech101Folder is null ? "Fashion-MNIST" : "Caltech-101";
var classes = train.Select(t => t.Label).Distinct().Count();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{dataName}: {train.Count} training and {test.Count} held-out test images, {classes} classes (loaded in {watch.Elapsed.TotalSeconds:F1} s)"));
var modelNote = options.UsesShippedModel
    ? " (the shipped demo model: a tiny Qwen2-VL trained on Fashion-MNIST's training images only, ONNX Runtime)"
    : options.DemoModelTokenizerFolder is null ? string.Empty : " (demo: tiny random Qwen2-VL)";
Console.WriteLine($"Model: {modelFolder}{modelNote}");

// MMEB-eval's classification instruction (no final period), which the shipped demo model was trained with: the image side
// is "<|image_1|>\nRepresent the given image for classification\n".
const string Instruction = "Represent the given image for classification";
var ml = new MLContext(seed: options.Seed);
var trainView = ml.Data.LoadFromEnumerable(train);
var testView = ml.Data.LoadFromEnumerable(test);

// 1. Embeddings of the model as it is + an ML.NET trainer.
var embed = ml.Transforms.EmbedWithVlm2Vec(new Vlm2VecEmbeddingOptions
{
    ModelPath = modelFolder,
    ImageColumnName = nameof(LabeledImage.ImageBytes),
    Instruction = Instruction,
    OutputColumnName = "Features",
});
var baseline = Evaluate("Vlm2Vec embeddings + SdcaMaximumEntropy", embed);

// 2. The same pipeline with the fine-tuning estimator in front: Fit trains the model contrastively on the training
//    split (query: the image; positive: its class name; the other classes in the batch are the negatives), then embeds
//    with the fine-tuned model.
if (options.FineTune)
{
    var runFolder = options.RunFolder ?? Path.Combine(Path.GetTempPath(), $"vlm2vec-mlnet-run-{Guid.NewGuid():N}");
    var fineTune = ml.Transforms.FineTuneVlm2Vec(new Vlm2VecFineTuningOptions
    {
        BaseModelPath = modelFolder,
        QueryImageColumnName = nameof(LabeledImage.ImageBytes),
        QueryInstruction = Instruction,
        PositiveTextColumnName = nameof(LabeledImage.Label),
        Training = new ContrastiveTrainingOptions
        {
            OutputFolder = runFolder,
            Mode = options.FullFineTuning ? FineTuningMode.Full : FineTuningMode.Lora,
            BatchSize = 32,
            MaxSteps = options.FineTuneSteps,
            LearningRate = options.LearningRate,
            Seed = options.Seed,
            SaveEverySteps = 0,
        },
        Embedding = new Vlm2VecEmbeddingOptions { OutputColumnName = "Features" },
    });
    ml.Log += (_, e) =>
    {
        if (e.Message.Contains("Vlm2Vec fine-tuning:", StringComparison.Ordinal) && e.Kind is Microsoft.ML.Runtime.ChannelMessageKind.Info)
        {
            Console.WriteLine("  " + e.Message[(e.Message.IndexOf("Vlm2Vec fine-tuning:", StringComparison.Ordinal) + 21)..]);
        }
    };
    var tuned = Evaluate($"FineTuneVlm2Vec ({(options.FullFineTuning ? "full" : "LoRA/DoRA")}, {options.FineTuneSteps} steps) + SdcaMaximumEntropy", fineTune);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"Change from fine-tuning: {(tuned - baseline) * 100:+0.0;-0.0} points of micro accuracy ({baseline:P1} -> {tuned:P1}); run folder {runFolder}"));
}

return 0;

double Evaluate<TTransformer>(string name, IEstimator<TTransformer> front)
    where TTransformer : class, ITransformer
{
    var pipeline = front
        .AppendCacheCheckpoint(ml) // SDCA makes many passes: embed each image once.
        .Append(ml.Transforms.Conversion.MapValueToKey(nameof(LabeledImage.Label)))
        .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(nameof(LabeledImage.Label), "Features"));
    var clock = Stopwatch.StartNew();
    var model = pipeline.Fit(trainView);
    var fitSeconds = clock.Elapsed.TotalSeconds;
    clock.Restart();
    var metrics = ml.MulticlassClassification.Evaluate(model.Transform(testView), nameof(LabeledImage.Label));
    var testSeconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"[{name}] fit {fitSeconds:F1} s, test {testSeconds:F1} s: held-out accuracy micro {metrics.MicroAccuracy:P1}, macro {metrics.MacroAccuracy:P1} " +
        $"(chance {1.0 / classes:P1}), log-loss {metrics.LogLoss:F3}"));
    return metrics.MicroAccuracy;
}
