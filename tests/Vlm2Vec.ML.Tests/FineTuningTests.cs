using Microsoft.ML;
using Microsoft.ML.Data;
using Vlm2Vec.ML.Tests.Support;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.ML.Tests;

/// <summary><c>FineTuneVlm2Vec</c>: contrastive training inside a pipeline, on generated data and a tiny random Qwen2-VL.</summary>
public sealed class FineTuningTests : IDisposable
{
    private readonly TinyQwen2VlFolder _model = new();
    private readonly TempFolder _runs = new("vlm2vec-ml-finetune");

    public void Dispose()
    {
        ModelSessions.ReleaseFolder(_runs.Combine("run", "ml-model"));
        _runs.Dispose();
        _model.Dispose();
    }

    private Vlm2VecFineTuningOptions Options(CancellationToken cancellationToken = default) => new()
    {
        BaseModelPath = _model.Path,
        QueryImageColumnName = "ImageBytes",
        QueryInstruction = "Represent the given image for classification.",
        PositiveTextColumnName = "Label",
        Training = new ContrastiveTrainingOptions
        {
            OutputFolder = _runs.Combine("run"),
            BatchSize = 8,
            MaxSteps = 4,
            LearningRate = 1e-3,
            WarmupSteps = 0,
            QueryChunkSize = 4,
            TargetChunkSize = 4,
            SaveEverySteps = 1,
            Seed = 3,
        },
        Embedding = new Vlm2VecEmbeddingOptions { OutputColumnName = "Features" },
        CancellationToken = cancellationToken,
    };

    private static (MLContext Ml, List<string> Log) Context()
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) =>
        {
            lock (log)
            {
                log.Add(e.Message);
            }
        };
        return (ml, log);
    }

    [Fact]
    public void Fit_trains_in_the_pipeline_logs_the_loss_and_the_next_steps_train_on_the_fine_tuned_embeddings()
    {
        var (ml, log) = Context();
        var rows = ColourSquares.Rows(16, seed: 4);
        var data = ml.Data.LoadFromEnumerable(rows);
        var fineTune = ml.Transforms.FineTuneVlm2Vec(Options());
        var pipeline = fineTune
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("LabelKey", "Features", maximumNumberOfIterations: 20));

        // The shape is known before training (the base model's hidden size; nothing is loaded).
        var shape = pipeline.GetOutputSchema(Shapes.Of(data.Schema));
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Features").Kind);

        var model = pipeline.Fit(data);
        var result = fineTune.LastTrainingResult!;
        Assert.True(result.Completed);
        Assert.Equal(4, result.Steps);
        Assert.True(double.IsFinite(result.FinalLoss));
        Assert.True(Directory.Exists(result.AdapterFolder!));
        var modelFolder = _runs.Combine("run", "ml-model");
        Assert.True(File.Exists(Path.Combine(modelFolder, "config.json")));
        Assert.True(File.Exists(Path.Combine(modelFolder, "tokenizer.json")));
        Assert.NotNull(result.LastCheckpoint);

        // Progress and loss reached MLContext.Log.
        Assert.Contains(log, m => m.Contains("Vlm2Vec fine-tuning: step 4/4", StringComparison.Ordinal) && m.Contains("loss", StringComparison.Ordinal));
        Assert.Contains(log, m => m.Contains("Vlm2Vec fine-tuning: 16 pairs, Lora mode", StringComparison.Ordinal));

        // The pipeline's embedding step is bound to the fine-tuned model, whose vectors differ from the base model's.
        var embeddingStep = model.OfType<TransformerChain<Vlm2VecEmbeddingTransformer>>().SingleOrDefault()?.LastTransformer
            ?? model.OfType<Vlm2VecEmbeddingTransformer>().Single();
        Assert.Equal(modelFolder, embeddingStep.ModelPath);
        var tuned = model.Transform(data).GetColumn<float[]>("Features").ToList();
        var baseline = ml.Transforms.EmbedWithVlm2Vec("Features", _model.Path, imageColumnName: "ImageBytes", instruction: "Represent the given image for classification.")
            .Fit(data).Transform(data).GetColumn<float[]>("Features").ToList();
        Assert.Equal(16, tuned.Count);
        Assert.All(tuned, v => Assert.Equal(TinyQwen2VlFolder.Dimension, v.Length));
        Assert.True(Enumerable.Range(0, 16).Any(i => Cosine(tuned[i], baseline[i]) < 0.9999), "fine-tuning changed no embedding");

        // The whole pipeline saves and reloads without training again.
        var zip = _runs.Combine("pipeline.zip");
        ml.Model.Save(model, data.Schema, zip);
        var fresh = new MLContext(seed: 2);
        var loaded = fresh.Model.Load(zip, out _);
        var reloaded = loaded.Transform(fresh.Data.LoadFromEnumerable(rows)).GetColumn<float[]>("Features").ToList();
        for (var i = 0; i < 16; i++)
        {
            Assert.True(Cosine(reloaded[i], tuned[i]) > 0.99999, $"row {i}");
        }
    }

    [Fact]
    public void Cancellation_stops_with_a_checkpoint_and_fitting_again_resumes()
    {
        var (ml, log) = Context();
        var data = ml.Data.LoadFromEnumerable(ColourSquares.Rows(16, seed: 5));
        using var cancel = new CancellationTokenSource();
        ml.Log += (_, e) =>
        {
            if (e.Message.Contains("Vlm2Vec fine-tuning: step 1/4", StringComparison.Ordinal))
            {
                cancel.Cancel();
            }
        };

        var first = ml.Transforms.FineTuneVlm2Vec(Options(cancel.Token));
        var error = Assert.Throws<OperationCanceledException>(() => first.Fit(data));
        Assert.Contains("cancelled at step 1 of 4", error.Message);
        Assert.True(first.LastTrainingResult!.Cancelled);
        Assert.True(Directory.Exists(first.LastTrainingResult.LastCheckpoint!));

        var second = ml.Transforms.FineTuneVlm2Vec(Options());
        var transformer = second.Fit(data);
        Assert.Equal(1, second.LastTrainingResult!.ResumedFromStep);
        Assert.True(second.LastTrainingResult.Completed);
        Assert.Equal(TinyQwen2VlFolder.Dimension, transformer.Dimension);
    }

    [Fact]
    public void Text_pairs_with_a_hard_negatives_column_train_in_full_mode()
    {
        var (ml, log) = Context();
        string[] colours = ["red", "green", "blue", "yellow"];
        var rows = Enumerable.Range(0, 12).Select(i => new TextPair
        {
            Question = $"what colour is item {i}?",
            Answer = colours[i % 4],
            Negatives = [colours[(i + 1) % 4], colours[(i + 2) % 4]],
        }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = Options();
        options.QueryImageColumnName = null;
        options.QueryTextColumnName = "Question";
        options.PositiveTextColumnName = "Answer";
        options.NegativesColumnName = "Negatives";
        options.Training = options.Training! with { Mode = FineTuningMode.Full, HardNegatives = 2, MaxSteps = 2, BatchSize = 4 };
        var estimator = ml.Transforms.FineTuneVlm2Vec(options);
        var transformer = estimator.Fit(data);
        Assert.True(estimator.LastTrainingResult!.Completed);
        Assert.Equal(_runs.Combine("run", "model"), transformer.ModelPath);
        Assert.Contains(log, m => m.Contains("Vlm2Vec fine-tuning: 12 pairs, Full mode", StringComparison.Ordinal));
        var vectors = transformer.Transform(data).GetColumn<float[]>("Features").ToList();
        Assert.Equal(12, vectors.Count);
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4));
        ModelSessions.ReleaseFolder(transformer.ModelPath!);
    }

    public sealed class TextPair
    {
        public string Question { get; set; } = "";

        public string Answer { get; set; } = "";

        public string[] Negatives { get; set; } = [];
    }

    [Fact]
    public void Pair_columns_are_checked_with_clear_messages()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(ColourSquares.Rows(4, seed: 6));
        var options = Options();
        options.PositiveTextColumnName = "Caption";
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.FineTuneVlm2Vec(options).Fit(data));
        Assert.Contains("FineTuneVlm2Vec: the positive text column 'Caption' is not in the input", error.Message);

        var noPositive = Options();
        noPositive.PositiveTextColumnName = null;
        Assert.Contains("no positive column", Assert.Throws<ArgumentException>(() => ml.Transforms.FineTuneVlm2Vec(noPositive)).Message);

        var negatives = Options();
        negatives.NegativesColumnName = "ImageBytes";
        Assert.Contains("negatives column 'ImageBytes'", Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.FineTuneVlm2Vec(negatives).Fit(data)).Message);
        Assert.False(Directory.Exists(_runs.Combine("run", "ml-model")));
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}
