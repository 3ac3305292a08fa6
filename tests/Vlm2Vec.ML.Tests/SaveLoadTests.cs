using Microsoft.ML;
using Microsoft.ML.Data;
using Vlm2Vec.ML.Tests.Support;

namespace Vlm2Vec.ML.Tests;

/// <summary><c>mlContext.Model.Save</c> / <c>Load</c> round trips.</summary>
public sealed class SaveLoadTests : IDisposable
{
    private readonly HashingModelFolder _model = new(dimension: 24);

    public void Dispose() => _model.Dispose();

    [Fact]
    public void A_saved_pipeline_reloads_in_a_fresh_context_and_embeds_the_same_vectors()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestRows.Photos(6);
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = _model.Options(image: "ImageBytes", text: "Caption");
        options.Instruction = "Represent the given image with the caption.";
        options.Role = EmbeddingRole.Target;
        var model = ml.Transforms.LoadRawImageBytes("ImageBytes", TestRows.CaltechFolder, "ImagePath")
            .Append(ml.Transforms.EmbedWithVlm2Vec(options))
            .Fit(data);
        var expected = TestRows.ByCaption(ml, model.Transform(data));

        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);

        // The zip holds the public-transform form; the model itself is not in it (it records the folder instead).
        Assert.True(stream.Length < 64 * 1024, $"saved model is {stream.Length} bytes");

        // Close the model so that the reloaded pipeline must open it again from the recorded path and engine.
        var opensBefore = HashingEncoderFactory.OpenCount(_model.Path);
        Assert.Equal(1, ModelSessions.ReleaseFolder(_model.Path));

        var fresh = new MLContext(seed: 2);
        stream.Position = 0;
        var loaded = fresh.Model.Load(stream, out var inputSchema);

        // The model folder is recorded by absolute path, with the engine that opens it and the column semantics.
        var spec = SavedSpecs.Read(fresh, loaded).Single();
        Assert.Equal(Path.GetFullPath(_model.Path), spec.ModelPath);
        Assert.Equal("Vlm2Vec.ML.Tests.Support.HashingEncoderFactory, Vlm2Vec.ML.Tests", spec.EncoderFactoryType);
        Assert.Equal((ImageSourceKind.EncodedBytes, "ImageBytes", "Caption", EmbeddingRole.Target, 24), (spec.Image, spec.ImageColumn, spec.TextColumn, spec.Role, spec.Dimension));
        Assert.Null(spec.EncoderInstanceKey);
        Assert.Equal(data.Schema.Select(c => c.Name), inputSchema.Select(c => c.Name));
        var output = loaded.Transform(fresh.Data.LoadFromEnumerable(rows));
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 24), output.Schema["Embedding"].Type);
        Assert.Equal(model.Transform(data).Schema.Select(c => $"{c.Name}:{c.Type}"), output.Schema.Select(c => $"{c.Name}:{c.Type}"));
        var reloaded = TestRows.ByCaption(fresh, output);
        Assert.Equal(opensBefore + 1, HashingEncoderFactory.OpenCount(_model.Path));
        foreach (var row in rows)
        {
            Assert.Equal(expected[row.Caption], reloaded[row.Caption]);
        }

        // And through a PredictionEngine on the reloaded model.
        var engine = fresh.Model.CreatePredictionEngine<PhotoRow, EmbeddedRow>(loaded);
        Assert.Equal(expected[rows[3].Caption], engine.Predict(rows[3]).Embedding);
    }

    [Fact]
    public void A_reloaded_pipeline_with_a_trainer_after_the_embedding_predicts_like_the_original()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestRows.Photos(16);
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = _model.Options(image: "ImagePath");
        options.ImageFolder = TestRows.CaltechFolder;
        options.OutputColumnName = "Features";
        var model = ml.Transforms.EmbedWithVlm2Vec(options)
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("LabelKey", "Features", maximumNumberOfIterations: 5))
            .Fit(data);

        var path = Path.Combine(_model.Path, "pipeline.zip");
        ml.Model.Save(model, data.Schema, path);
        var fresh = new MLContext(seed: 9);
        var loaded = fresh.Model.Load(path, out _);
        var before = ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).ToList();
        var after = fresh.Data.CreateEnumerable<Scored>(loaded.Transform(fresh.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();
        Assert.Equal(16, after.Count);
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].Score, after[i].Score);
        }
    }

    [Fact]
    public void LoadWithVlm2Vec_restores_batched_embedding_in_a_reloaded_pipeline_and_saves_back()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestRows.Photos(20);
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = _model.Options(image: "ImagePath", text: "Caption");
        options.ImageFolder = TestRows.CaltechFolder;
        options.OutputColumnName = "Features";
        options.BatchSize = 10;
        var model = ml.Transforms.EmbedWithVlm2Vec(options)
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("LabelKey", "Features", maximumNumberOfIterations: 5))
            .Fit(data);
        var expected = ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).ToList();
        var path = Path.Combine(_model.Path, "pipeline.zip");
        ml.Model.Save(model, data.Schema, path);
        ModelSessions.ReleaseFolder(_model.Path);

        var fresh = new MLContext(seed: 2);
        var log = new List<string>();
        fresh.Log += (_, e) =>
        {
            lock (log)
            {
                log.Add(e.Message);
            }
        };
        var loaded = fresh.Model.LoadWithVlm2Vec(path, out _);
        var step = Assert.Single(Flatten(loaded).OfType<Vlm2VecEmbeddingTransformer>());
        Assert.Equal((24, "Features", Path.GetFullPath(_model.Path)), (step.Dimension, step.OutputColumnName, step.ModelPath));

        // The first Transform opens the model; 20 rows read 10 at a time are two encoder calls, not twenty.
        var freshRows = fresh.Data.LoadFromEnumerable(rows);
        var scored = fresh.Data.CreateEnumerable<Scored>(loaded.Transform(freshRows), reuseRowObject: false).ToList();
        Assert.Equal(2, HashingEncoderFactory.OpenedAt(_model.Path).Calls);
        Assert.Equal(expected.Select(e => e.Score), scored.Select(s => s.Score));

        // It saves back to the same form, which plain Model.Load reads.
        var again = Path.Combine(_model.Path, "again.zip");
        fresh.Model.Save(loaded, freshRows.Schema, again);
        var plain = new MLContext(seed: 3).Model.Load(again, out _);
        Assert.Empty(Flatten(plain).OfType<Vlm2VecEmbeddingTransformer>());
        var replayed = fresh.Data.CreateEnumerable<Scored>(plain.Transform(freshRows), reuseRowObject: false).ToList();
        Assert.Equal(expected.Select(e => e.Score), replayed.Select(s => s.Score));
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer)
    {
        yield return transformer;
        if (transformer is TransformerChain<ITransformer> chain)
        {
            foreach (var inner in chain.SelectMany(Flatten))
            {
                yield return inner;
            }
        }
    }

    [Fact]
    public void The_device_defaults_to_the_contexts_GPU_and_is_recorded()
    {
        var ml = new MLContext(seed: 1) { GpuDeviceId = 1 };
        var data = ml.Data.LoadFromEnumerable(TestRows.Photos(2));
        var model = ml.Transforms.EmbedWithVlm2Vec(_model.Options(image: null, text: "Caption")).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();
        Assert.Equal("cuda:1", SavedSpecs.Read(fresh, fresh.Model.Load(stream, out _)).Single().Device);

        var options = _model.Options(image: null, text: "Caption");
        options.Device = "cpu";
        var explicitDevice = ml.Transforms.EmbedWithVlm2Vec(options).Fit(data);
        using var second = new MemoryStream();
        ml.Model.Save(explicitDevice, data.Schema, second);
        second.Position = 0;
        Assert.Equal("cpu", SavedSpecs.Read(fresh, fresh.Model.Load(second, out _)).Single().Device);
    }

    [Fact]
    public void A_transformer_over_an_encoder_object_refuses_to_save_with_the_reason()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(TestRows.Photos(2));
        using var encoder = new HashingEncoder(Vlm2VecPreprocessor.FromFolder(_model.Path), 8);
        var transformer = ml.Transforms.EmbedWithVlm2Vec(new Vlm2VecEmbeddingOptions { Encoder = encoder, TextColumnName = "Caption" }).Fit(data);
        Assert.False(transformer.CanSave);
        Assert.Equal(8, TestRows.ByCaption(ml, transformer.Transform(data)).Values.First().Length);
        var error = Assert.Throws<NotSupportedException>(() => ml.Model.Save(transformer, data.Schema, new MemoryStream()));
        Assert.Contains("wraps an encoder object", error.Message);
        Assert.Contains("ModelPath", error.Message);
    }

    [Fact]
    public void A_factory_that_cannot_be_recreated_makes_the_transformer_unsaveable()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(TestRows.Photos(2));
        var options = _model.Options(image: null, text: "Caption");
        options.EncoderFactory = new PrivateFactory();
        var transformer = ml.Transforms.EmbedWithVlm2Vec(options).Fit(data);
        Assert.False(transformer.CanSave);
        var error = Assert.Throws<NotSupportedException>(() => ml.Model.Save(transformer, data.Schema, new MemoryStream()));
        Assert.Contains("public constructor callable without arguments", error.Message);
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }

    private sealed class PrivateFactory : IVlm2VecEncoderFactory
    {
        private readonly HashingEncoderFactory _inner = new();

        public string Engine => "private";

        public bool CanOpen(string modelPath) => _inner.CanOpen(modelPath);

        public IVlm2VecEncoder Create(Vlm2VecEncoderOptions options) => _inner.Create(options);
    }
}
