using Microsoft.ML;
using Microsoft.ML.Data;
using Vlm2Vec.ML.Tests.Support;

namespace Vlm2Vec.ML.Tests;

/// <summary>Rows that cannot be embedded: an exception naming the row, or NaN plus a warning naming it.</summary>
public sealed class RowErrorTests : IDisposable
{
    private readonly HashingModelFolder _model = new(dimension: 16);

    public void Dispose() => _model.Dispose();

    private static PhotoRow[] RowsWithProblems()
    {
        var rows = TestRows.Photos(5);
        rows[2].ImagePath = "images/not-there/missing.jpg";
        rows[4].ImagePath = "";
        rows[4].Caption = "";
        return rows;
    }

    [Fact]
    public void Throw_policy_names_the_row_its_content_and_the_cause()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(RowsWithProblems());
        var options = _model.Options(image: "ImagePath", text: "Caption");
        options.ImageFolder = TestRows.CaltechFolder;
        var view = ml.Transforms.EmbedWithVlm2Vec(options).Fit(data).Transform(data);
        var error = Assert.Throws<Vlm2VecRowException>(() => view.GetColumn<float[]>("Embedding").ToList());
        Assert.Equal(2, error.RowPosition);
        Assert.Contains("Row 2 (ImagePath = 'images/not-there/missing.jpg', Caption = \"photo 2 of a brain\")", error.Message);
        Assert.Contains("does not exist", error.Message);
        Assert.IsType<ImageDecodeException>(error.InnerException);
    }

    [Fact]
    public void NaN_policy_gives_the_bad_rows_NaN_vectors_logs_them_and_embeds_the_rest()
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
        // In-memory encoded bytes (a Vector<Byte> column, as LoadRawImageBytes makes): row 2 holds 12 bytes that are no
        // image, row 4 neither an image nor text.
        var rows = TestRows.Photos(5).Select(p => new BytesRow
        {
            ImageBytes = File.ReadAllBytes(Path.Combine(TestRows.CaltechFolder, p.ImagePath)),
            Caption = p.Caption,
        }).ToArray();
        rows[2].ImageBytes = "not an image"u8.ToArray();
        rows[4].ImageBytes = [];
        rows[4].Caption = "";
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = _model.Options(image: "ImageBytes", text: "Caption");
        options.RowErrors = Vlm2VecRowErrorHandling.ReturnNaN;
        options.BatchSize = 2;
        var view = ml.Transforms.EmbedWithVlm2Vec(options).Fit(data).Transform(data);
        var vectors = view.GetColumn<float[]>("Embedding").ToList();
        Assert.Equal(5, vectors.Count);
        Assert.All(vectors[2], v => Assert.True(float.IsNaN(v)));
        Assert.All(vectors[4], v => Assert.True(float.IsNaN(v)));
        foreach (var good in new[] { 0, 1, 3 })
        {
            Assert.Equal(1.0, Math.Sqrt(vectors[good].Sum(v => (double)v * v)), 5);
        }

        Assert.Contains(log, m => m.Contains("Row 2 (ImageBytes = 12 bytes", StringComparison.Ordinal) && m.Contains("Its embedding is NaN.", StringComparison.Ordinal));
        Assert.Contains(log, m => m.Contains("Row 4 (", StringComparison.Ordinal)
            && m.Contains("both its image column 'ImageBytes' and its text column 'Caption' are empty", StringComparison.Ordinal));

        // The NaN rows are easy to drop.
        var kept = ml.Data.FilterRowsByMissingValues(view, "Embedding");
        Assert.Equal(3, kept.GetColumn<float[]>("Embedding").Count());
    }

    [Fact]
    public void Empty_text_in_a_text_only_transformer_is_a_bad_row_too()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestRows.Photos(3);
        rows[1].Caption = "";
        var data = ml.Data.LoadFromEnumerable(rows);
        var transformer = ml.Transforms.EmbedWithVlm2Vec(_model.Options(image: null, text: "Caption")).Fit(data);
        var error = Assert.Throws<Vlm2VecRowException>(() => transformer.Transform(data).GetColumn<float[]>("Embedding").ToList());
        Assert.Equal(1, error.RowPosition);
        Assert.Contains("its text column 'Caption' is empty", error.Message);

        // Through the row mapper the row has no position, but its content is named.
        var engine = ml.Model.CreatePredictionEngine<PhotoRow, EmbeddedRow>(transformer);
        var single = Assert.Throws<Vlm2VecRowException>(() => engine.Predict(rows[1]));
        Assert.Equal(-1, single.RowPosition);
        Assert.Contains("A row (Caption = \"\")", single.Message);
    }

    [Fact]
    public void Truncation_by_the_preprocessing_is_logged_on_the_ML_context()
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
        var rows = TestRows.Photos(2);
        rows[1].Caption = string.Join(' ', Enumerable.Repeat("a very long caption", 40));
        using var model = new HashingModelFolder(dimension: 16);
        var options = model.Options(image: null, text: "Caption");
        options.Preprocessing = new PreprocessorOptions { MaxTokens = 32 };
        var data = ml.Data.LoadFromEnumerable(rows);
        var vectors = ml.Transforms.EmbedWithVlm2Vec(options).Fit(data).Transform(data).GetColumn<float[]>("Embedding").ToList();
        Assert.Equal(2, vectors.Count);
        Assert.Contains(log, m => m.Contains("Kind=Warning", StringComparison.Ordinal) && m.Contains("over MaxTokens 32", StringComparison.Ordinal));
    }

    public sealed class BytesRow
    {
        public byte[] ImageBytes { get; set; } = [];

        public string Caption { get; set; } = "";
    }
}
