using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MlNetClassification;
using Vlm2Vec.ML;

// Image classification with Vlm2Vec embeddings: encoded image bytes -> EmbedWithVlm2Vec -> SdcaMaximumEntropy,
// trained on one split and scored on a held-out split. See README.md.
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

var modelFolder = options.ModelFolder
    ?? DemoModel.Create(options.DemoModelTokenizerFolder!, Path.Combine(Path.GetTempPath(), "vlm2vec-mlnet-demo-model"));

var watch = Stopwatch.StartNew();
var (train, test) = options.Caltech101Folder is { } caltech
    ? Datasets.Caltech101(caltech, options.TrainCount, options.TestCount, options.Seed)
    : Datasets.FashionMnist(options.FashionMnistFolder!, options.TrainCount, options.TestCount, options.Seed);
var dataName = options.Caltech101Folder is null ? "Fashion-MNIST" : "Caltech-101";
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{dataName}: {train.Count} training and {test.Count} held-out test images, {train.Select(t => t.Label).Distinct().Count()} classes (loaded in {watch.Elapsed.TotalSeconds:F1} s)"));
Console.WriteLine($"Model: {modelFolder}{(options.DemoModelTokenizerFolder is null ? string.Empty : " (demo: tiny random Qwen2-VL)")}");

var ml = new MLContext(seed: options.Seed);
var trainView = ml.Data.LoadFromEnumerable(train);
var testView = ml.Data.LoadFromEnumerable(test);

var pipeline = ml.Transforms.EmbedWithVlm2Vec(new Vlm2VecEmbeddingOptions
    {
        ModelPath = modelFolder,
        ImageColumnName = nameof(LabeledImage.ImageBytes),
        Instruction = "Represent the given image for classification.",
        OutputColumnName = "Features",
        BatchSize = 64,
    })
    .AppendCacheCheckpoint(ml) // SDCA makes many passes: embed each image once.
    .Append(ml.Transforms.Conversion.MapValueToKey(nameof(LabeledImage.Label)))
    .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(nameof(LabeledImage.Label), "Features"));

watch.Restart();
var model = pipeline.Fit(trainView);
var fitSeconds = watch.Elapsed.TotalSeconds;

watch.Restart();
var metrics = ml.MulticlassClassification.Evaluate(model.Transform(testView), nameof(LabeledImage.Label));
var testSeconds = watch.Elapsed.TotalSeconds;

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Embedding dimension {model.GetOutputSchema(trainView.Schema)["Features"].Type}; fit (embed + train) {fitSeconds:F1} s; test embed + score {testSeconds:F1} s ({test.Count / testSeconds:F1} images/s)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Held-out accuracy: micro {metrics.MicroAccuracy:P1}, macro {metrics.MacroAccuracy:P1} (chance {1.0 / train.Select(t => t.Label).Distinct().Count():P1}); log-loss {metrics.LogLoss:F3}"));
return 0;
