using Microsoft.ML;
using Microsoft.ML.Data;
using Vlm2Vec.ML.Tests.Support;

namespace Vlm2Vec.ML.Tests;

/// <summary>Batched cursors against row-by-row embedding, parallel cursors, shuffling and cursor semantics.</summary>
public sealed class BatchingTests : IDisposable
{
    private readonly HashingModelFolder _model = new(dimension: 40);
    private readonly MLContext _ml = new(seed: 3);

    public void Dispose() => _model.Dispose();

    private (IDataView Data, ITransformer Model) Pipeline(int rows, int batchSize = 64)
    {
        var data = _ml.Data.LoadFromEnumerable(TestRows.Photos(rows));
        var options = _model.Options(image: "ImageBytes", text: "Caption");
        options.InstructionColumnName = "Instruction";
        options.Instruction = "Represent the given image with the caption.";
        options.BatchSize = batchSize;
        var model = _ml.Transforms.LoadRawImageBytes("ImageBytes", TestRows.CaltechFolder, "ImagePath")
            .Append(_ml.Transforms.EmbedWithVlm2Vec(options))
            .Fit(data);
        return (data, model);
    }

    [Fact]
    public void Transform_embeds_in_batches_and_equals_row_by_row_embedding()
    {
        var (data, model) = Pipeline(rows: 20, batchSize: 8);
        var encoder = HashingEncoderFactory.OpenedAt(_model.Path);
        var callsBefore = encoder.Calls;

        var batched = TestRows.ByCaption(_ml, model.Transform(data));
        var batchedCalls = encoder.Calls - callsBefore;

        // A PredictionEngine goes through the row mapper: one encoder call per row.
        var engine = _ml.Model.CreatePredictionEngine<PhotoRow, EmbeddedRow>(model);
        callsBefore = encoder.Calls;
        foreach (var row in TestRows.Photos(20))
        {
            var single = engine.Predict(row);
            Assert.Equal(batched[row.Caption], single.Embedding);
        }

        Assert.Equal(20, encoder.Calls - callsBefore);

        // 20 rows read 8 at a time: three reads, each one encoder call (within the embedder's 16-row budget).
        Assert.Equal(3, batchedCalls);
        Assert.Equal(20, batched.Count);
        Assert.All(batched.Values, v => Assert.Equal(40, v.Length));
        Assert.Equal(20, batched.Values.Select(v => string.Join(',', v)).Distinct().Count());
    }

    [Fact]
    public void Instruction_column_and_fixed_instruction_both_reach_the_model()
    {
        var (data, model) = Pipeline(rows: 4);
        var embedded = TestRows.ByCaption(_ml, model.Transform(data));

        // Rows 0 and 2 carry their own instruction; rows 1 and 3 fall back to the fixed one. Same image and caption with
        // the other instruction must give another vector.
        var photos = TestRows.Photos(4);
        var swapped = photos.Select(p => new PhotoRow
        {
            ImagePath = p.ImagePath, Caption = p.Caption, Label = p.Label,
            Instruction = p.Instruction.Length == 0 ? "Represent the given image." : "",
        });
        var other = TestRows.ByCaption(_ml, model.Transform(_ml.Data.LoadFromEnumerable(swapped)));
        foreach (var photo in photos)
        {
            Assert.NotEqual(embedded[photo.Caption], other[photo.Caption]);
        }

        var options = _model.Options(image: "ImageBytes", text: "Caption");
        options.Instruction = "Represent the given image with the caption.";
        var fixedOnly = _ml.Transforms.LoadRawImageBytes("ImageBytes", TestRows.CaltechFolder, "ImagePath")
            .Append(_ml.Transforms.EmbedWithVlm2Vec(options)).Fit(data);
        var fixedVectors = TestRows.ByCaption(_ml, fixedOnly.Transform(data));
        Assert.Equal(fixedVectors[photos[1].Caption], embedded[photos[1].Caption]);
        Assert.NotEqual(fixedVectors[photos[0].Caption], embedded[photos[0].Caption]);
    }

    [Fact]
    public void Parallel_cursors_each_serve_their_own_rows_with_the_right_values()
    {
        var (data, model) = Pipeline(rows: 30, batchSize: 4);
        var expected = TestRows.ByCaption(_ml, model.Transform(data));
        var view = model.Transform(data);
        var cursors = view.GetRowCursorSet([view.Schema["Caption"], view.Schema["Embedding"], view.Schema["ImagePath"]], 3);
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, float[]>();
        var paths = TestRows.Photos(30).ToDictionary(p => p.Caption, p => p.ImagePath);
        Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var caption = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Caption"]);
                var path = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["ImagePath"]);
                var embedding = cursor.GetGetter<VBuffer<float>>(view.Schema["Embedding"]);
                ReadOnlyMemory<char> c = default, p = default;
                VBuffer<float> e = default;
                while (cursor.MoveNext())
                {
                    caption(ref c);
                    path(ref p);
                    embedding(ref e);
                    Assert.Equal(paths[c.ToString()], p.ToString());
                    Assert.True(seen.TryAdd(c.ToString(), e.DenseValues().ToArray()));
                }
            }
        });
        Assert.Equal(30, seen.Count);
        foreach (var (caption, vector) in seen)
        {
            Assert.Equal(expected[caption], vector);
        }
    }

    [Fact]
    public void Shuffled_cursors_keep_rows_and_their_embeddings_together()
    {
        var (data, model) = Pipeline(rows: 12, batchSize: 5);
        var expected = TestRows.ByCaption(_ml, model.Transform(data));
        var shuffled = _ml.Data.ShuffleRows(model.Transform(data), seed: 5);
        var rows = _ml.Data.CreateEnumerable<EmbeddedRow>(shuffled, reuseRowObject: false).ToList();
        Assert.Equal(12, rows.Count);
        Assert.NotEqual(TestRows.Photos(12).Select(p => p.Caption), rows.Select(r => r.Caption));
        Assert.All(rows, r => Assert.Equal(expected[r.Caption], r.Embedding));
    }

    [Fact]
    public void Cursors_without_the_embedding_column_do_not_run_the_model_and_ids_are_the_inputs()
    {
        var (data, model) = Pipeline(rows: 6, batchSize: 4);
        var encoder = HashingEncoderFactory.OpenedAt(_model.Path);
        var before = encoder.Calls;
        var view = model.Transform(data);
        Assert.Equal(6, view.GetColumn<string>("Caption").Count());
        Assert.Equal(before, encoder.Calls);

        // Row ids and positions are those of the input rows, in order, whether or not the cursor embeds.
        var inputIds = Ids(data, data.Schema["Caption"]);
        Assert.Equal(inputIds, Ids(view, view.Schema["Embedding"]));
        Assert.Equal(inputIds, Ids(view, view.Schema["Caption"]));
        Assert.Equal(6, view.GetRowCount());

        using var cursor = view.GetRowCursor([view.Schema["Embedding"]]);
        Assert.False(cursor.IsColumnActive(view.Schema["Caption"]));
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Caption"]));
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema["Embedding"]);
        VBuffer<float> value = default;
        Assert.Throws<InvalidOperationException>(() => getter(ref value));
        for (var i = 0; i < 6; i++)
        {
            Assert.True(cursor.MoveNext());
            Assert.Equal(i, cursor.Position);
        }

        Assert.False(cursor.MoveNext());
    }

    private static List<DataViewRowId> Ids(IDataView view, DataViewSchema.Column column)
    {
        var ids = new List<DataViewRowId>();
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetIdGetter();
        while (cursor.MoveNext())
        {
            DataViewRowId id = default;
            getter(ref id);
            ids.Add(id);
        }

        return ids;
    }
}
