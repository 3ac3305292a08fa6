using Microsoft.ML;
using Microsoft.ML.Data;
using Vlm2Vec.ML.Tests.Support;

namespace Vlm2Vec.ML.Tests;

/// <summary>Schema propagation and the input checks of <c>EmbedWithVlm2Vec</c>.</summary>
public sealed class SchemaTests : IDisposable
{
    private readonly HashingModelFolder _model = new(dimension: 24);
    private readonly MLContext _ml = new(seed: 1);

    public void Dispose() => _model.Dispose();

    [Fact]
    public void Output_schema_adds_a_known_size_vector_of_the_model_dimension_and_keeps_the_input_columns()
    {
        var data = _ml.Data.LoadFromEnumerable(TestRows.Photos(3));
        var pipeline = _ml.Transforms.LoadRawImageBytes("ImageBytes", TestRows.CaltechFolder, "ImagePath")
            .Append(_ml.Transforms.EmbedWithVlm2Vec(_model.Options(image: "ImageBytes", text: "Caption")));

        // Estimator side: the shape, before anything is fitted.
        var shape = pipeline.GetOutputSchema(Shapes.Of(data.Schema));
        var embedding = shape.Single(c => c.Name == "Embedding");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, embedding.Kind);
        Assert.Equal(NumberDataViewType.Single, embedding.ItemType);
        Assert.Equal(["ImagePath", "Caption", "Instruction", "Label", "ImageBytes", "Embedding"], shape.Select(c => c.Name));

        // Transformer side: the exact type, and nothing of the working columns leaks out.
        var model = pipeline.Fit(data);
        var schema = model.GetOutputSchema(data.Schema);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 24), schema["Embedding"].Type);
        Assert.Equal(["ImagePath", "Caption", "Instruction", "Label", "ImageBytes", "Embedding"], schema.Select(c => c.Name));
        Assert.Equal(schema.Select(c => c.Name), model.Transform(data).Schema.Select(c => c.Name));
        Assert.DoesNotContain(model.Transform(data).Schema, c => c.Name.StartsWith("__vlm2vec", StringComparison.Ordinal));

        var transformer = model.LastTransformer;
        Assert.Equal(24, transformer.Dimension);
        Assert.Equal("hashing-test-model", transformer.ModelId);
        Assert.Equal(Path.GetFullPath(_model.Path), transformer.ModelPath);
    }

    [Fact]
    public void An_output_column_named_like_an_input_column_replaces_it()
    {
        var data = _ml.Data.LoadFromEnumerable(TestRows.Photos(2));
        var options = _model.Options(image: null, text: "Caption");
        options.OutputColumnName = "Label";
        var output = _ml.Transforms.EmbedWithVlm2Vec(options).Fit(data).Transform(data);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 24), output.Schema["Label"].Type);
        var vectors = output.GetColumn<float[]>("Label").ToArray();
        Assert.Equal(2, vectors.Length);
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 5));
    }

    [Fact]
    public void A_missing_column_is_named_with_the_columns_that_exist()
    {
        var data = _ml.Data.LoadFromEnumerable(TestRows.Photos(2));
        var estimator = _ml.Transforms.EmbedWithVlm2Vec(_model.Options(image: "Picture"));
        var fit = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        Assert.Contains("image column 'Picture' is not in the input", fit.Message);
        Assert.Contains("'ImagePath'", fit.Message);
        var shape = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shapes.Of(data.Schema)));
        Assert.Contains("image column 'Picture' is not in the input", shape.Message);
    }

    [Fact]
    public void Wrong_column_types_are_refused_with_what_is_allowed()
    {
        var ml = _ml;
        var data = ml.Data.LoadFromEnumerable(TestRows.Photos(2));
        var withNumbers = ml.Transforms.Conversion.MapValueToKey("LabelKey", "Label").Fit(data).Transform(data);

        var image = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.EmbedWithVlm2Vec(_model.Options(image: "LabelKey")).Fit(withNumbers));
        Assert.Contains("image column 'LabelKey' is Key<UInt32", image.Message);
        Assert.Contains("Vector<Byte>", image.Message);
        Assert.Contains("String holding a file path", image.Message);

        var text = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.EmbedWithVlm2Vec(_model.Options(image: null, text: "LabelKey")).Fit(withNumbers));
        Assert.Contains("text column 'LabelKey'", text.Message);
        Assert.Contains("must be String", text.Message);

        var options = _model.Options(image: null, text: "Caption");
        options.InstructionColumnName = "LabelKey";
        var instruction = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.EmbedWithVlm2Vec(options).GetOutputSchema(Shapes.Of(withNumbers.Schema)));
        Assert.Contains("instruction column 'LabelKey'", instruction.Message);
    }

    [Fact]
    public void Image_columns_of_ImageAnalytics_are_refused_in_favour_of_raw_bytes()
    {
        var data = _ml.Data.LoadFromEnumerable(TestRows.Photos(2));
        var images = _ml.Transforms.LoadImages("Picture", TestRows.CaltechFolder, "ImagePath").Fit(data).Transform(data);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.EmbedWithVlm2Vec(_model.Options(image: "Picture")).Fit(images));
        Assert.Contains("LoadRawImageBytes", error.Message);
    }

    [Fact]
    public void Options_without_an_input_column_or_a_model_fail_at_the_catalog_call()
    {
        var neither = Assert.Throws<ArgumentException>(() => _ml.Transforms.EmbedWithVlm2Vec(_model.Options(image: null, text: null)));
        Assert.Contains("neither an image column nor a text column", neither.Message);

        var noModel = Assert.Throws<ArgumentException>(() => _ml.Transforms.EmbedWithVlm2Vec(new Vlm2VecEmbeddingOptions { TextColumnName = "Caption" }));
        Assert.Contains("names no model", noModel.Message);

        var notAModel = Assert.Throws<ArgumentException>(() => _ml.Transforms.EmbedWithVlm2Vec("Embedding", TestRows.CaltechFolder, textColumnName: "Caption"));
        Assert.Contains("neither a model bundle (vlm2vec.json) nor a Hugging Face checkpoint (config.json)", notAModel.Message);
    }

    [Fact]
    public void A_transformer_fitted_on_paths_refuses_bytes_later()
    {
        var data = _ml.Data.LoadFromEnumerable(TestRows.Photos(2));
        var options = _model.Options(image: "ImagePath");
        options.ImageFolder = TestRows.CaltechFolder;
        var transformer = _ml.Transforms.EmbedWithVlm2Vec(options).Fit(data);
        var bytes = _ml.Transforms.LoadRawImageBytes("ImagePath", TestRows.CaltechFolder, "ImagePath").Fit(data).Transform(data);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => transformer.Transform(bytes));
        Assert.Contains("held file paths (String) when the transformer was fitted, but now holds encoded bytes", error.Message);
    }

    [Fact]
    public void Chunk_layout_is_the_binary_expansion_largest_first()
    {
        Assert.Equal([1024, 512], ChunkLayout.For(1536));
        Assert.Equal([2048, 1024, 512], ChunkLayout.For(3584));
        Assert.Equal([16, 8], ChunkLayout.For(24));
        Assert.Equal([1], ChunkLayout.For(1));
        Assert.Equal(ChunkLayout.MaxDimension, ChunkLayout.For(ChunkLayout.MaxDimension).Sum());
        Assert.Throws<NotSupportedException>(() => ChunkLayout.For(0));
        Assert.Throws<NotSupportedException>(() => ChunkLayout.For(ChunkLayout.MaxDimension + 1));
    }
}
