using Microsoft.ML;
using Microsoft.ML.Data;
using Vlm2Vec.ML.Tests.Support;

namespace Vlm2Vec.ML.Tests;

/// <summary>
/// The real engine path: a Hugging Face checkpoint folder found and opened through the TorchSharp engine by type name
/// (Vlm2Vec.ML does not reference it), a real preprocessing of Caltech-101 JPEGs, a trainer after the embedding, and
/// the saved pipeline reloaded in a fresh context.
/// </summary>
public sealed class TorchSharpEndToEndTests : IDisposable
{
    private readonly TinyQwen2VlFolder _model = new();

    public void Dispose() => _model.Dispose();

    [Fact]
    public void Checkpoint_folder_pipeline_trains_saves_reloads_and_batches_like_row_by_row()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestRows.Photos(12);
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.LoadRawImageBytes("ImageBytes", TestRows.CaltechFolder, "ImagePath")
            .Append(ml.Transforms.EmbedWithVlm2Vec("Features", _model.Path, imageColumnName: "ImageBytes", textColumnName: "Caption",
                instruction: "Represent the given image with the caption."))
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("LabelKey", "Features", maximumNumberOfIterations: 10));
        var model = pipeline.Fit(data);

        var embedded = ml.Data.CreateEnumerable<Featured>(model.Transform(data), reuseRowObject: false).ToList();
        Assert.Equal(12, embedded.Count);
        Assert.All(embedded, r => Assert.Equal(TinyQwen2VlFolder.Dimension, r.Features.Length));
        Assert.All(embedded, r => Assert.Equal(1.0, Math.Sqrt(r.Features.Sum(v => (double)v * v)), 4));

        // Batched (12 rows through one cursor read, with padding) against one row at a time through a PredictionEngine.
        var engine = ml.Model.CreatePredictionEngine<PhotoRow, Featured>(model);
        for (var i = 0; i < rows.Length; i++)
        {
            var single = engine.Predict(rows[i]).Features;
            Assert.True(Cosine(single, embedded[i].Features) > 0.99999, $"row {i}: cosine {Cosine(single, embedded[i].Features)}");
        }

        // Save, close the model, reload in a fresh context: the folder and the TorchSharp engine are found again.
        var path = Path.Combine(_model.Path, "pipeline.zip");
        ml.Model.Save(model, data.Schema, path);
        Assert.Equal(1, ModelSessions.ReleaseFolder(_model.Path));
        var fresh = new MLContext(seed: 5);
        var loaded = fresh.Model.Load(path, out _);
        var spec = SavedSpecs.Read(fresh, loaded).Single();
        Assert.Equal("Vlm2Vec.TorchSharp.TorchSharpEncoderFactory, Vlm2Vec.TorchSharp", spec.EncoderFactoryType);
        var reloaded = fresh.Data.CreateEnumerable<Featured>(loaded.Transform(fresh.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.True(Cosine(reloaded[i].Features, embedded[i].Features) > 0.99999, $"row {i} after reload");
            Assert.Equal(embedded[i].PredictedLabel, reloaded[i].PredictedLabel);
        }
    }

    [Fact]
    public void A_GPU_asked_for_through_the_context_falls_back_to_the_CPU_only_when_the_context_allows_it()
    {
        var rows = TestRows.Photos(2);
        var strict = new MLContext(seed: 1) { GpuDeviceId = 0 };
        var error = Assert.Throws<NotSupportedException>(() =>
            strict.Transforms.EmbedWithVlm2Vec("Features", _model.Path, textColumnName: "Caption").Fit(strict.Data.LoadFromEnumerable(rows)));
        Assert.Contains("device 'cuda:0'", error.Message);

        var lenient = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = true };
        var log = new List<string>();
        lenient.Log += (_, e) =>
        {
            lock (log)
            {
                log.Add(e.Message);
            }
        };
        var data = lenient.Data.LoadFromEnumerable(rows);
        var vectors = lenient.Transforms.EmbedWithVlm2Vec("Features", _model.Path, textColumnName: "Caption").Fit(data).Transform(data).GetColumn<float[]>("Features").ToList();
        Assert.Equal(2, vectors.Count);
        Assert.Contains(log, m => m.Contains("Kind=Warning", StringComparison.Ordinal) && m.Contains("FallbackToCpu is set", StringComparison.Ordinal));
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

    public sealed class Featured
    {
        public string Caption { get; set; } = "";

        public float[] Features { get; set; } = [];

        public uint PredictedLabel { get; set; }
    }
}
