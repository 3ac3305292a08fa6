using Microsoft.ML.OnnxRuntime;
using Onnx;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

public sealed class OnnxModelWriterTests
{
    private const int Hidden = 64;

    [Fact]
    public void Large_tensors_go_to_one_aligned_external_data_file_and_ORT_runs_the_model()
    {
        using var folder = new TempFolder("onnx-writer");
        var (builder, weight, bias) = LinearModel(DataType.Float);
        var path = folder.Combine("model.onnx");

        var written = OnnxModelWriter.Write(builder, path);

        Assert.Equal(Path.Combine(folder.Path, "model.onnx_data"), written.ExternalDataPath);
        Assert.Equal(2, written.ExternalTensorCount);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var external = model.Graph.Initializer.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External).ToList();
        Assert.Equal(["linear.weight", "linear.bias_big"], external.Select(t => t.Name));
        long expectedOffset = 0;
        foreach (var tensor in external)
        {
            var entries = tensor.ExternalData.ToDictionary(e => e.Key, e => e.Value);
            Assert.Equal("model.onnx_data", entries["location"]);
            var offset = long.Parse(entries["offset"], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(0, offset % 64);
            Assert.True(offset >= expectedOffset);
            expectedOffset = offset + long.Parse(entries["length"], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Empty(tensor.RawData);
        }

        Assert.Equal(expectedOffset, new FileInfo(written.ExternalDataPath!).Length);
        Assert.All(model.Graph.Initializer.Where(t => t.DataLocation != TensorProto.Types.DataLocation.External), t => Assert.True(t.RawData.Length <= 1024));
        Assert.True(new FileInfo(path).Length < 4096, "the .onnx file holds the graph, not the weights");

        AssertLinearModelRuns(path, weight, bias);
        Assert.Equal(new[] { "model.onnx", "model.onnx_data" }, Directory.GetFileSystemEntries(folder.Path).Select(p => Path.GetFileName(p)!).Order());
    }

    [Fact]
    public void Float_weights_can_be_stored_as_float16()
    {
        using var folder = new TempFolder("onnx-writer");
        var (builder, weight, bias) = LinearModel(DataType.Float16);
        var path = folder.Combine("model.onnx");

        OnnxModelWriter.Write(builder, path, new OnnxWriteOptions { InlineThresholdBytes = 0 });

        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var stored = model.Graph.Initializer.Single(t => t.Name == "linear.weight");
        Assert.Equal((int)DataType.Float16, stored.DataType);
        Assert.Equal("8192", stored.ExternalData.Single(e => e.Key == "length").Value);
        AssertLinearModelRuns(path, weight.Select(v => (float)(Half)v).ToArray(), bias.Select(v => (float)(Half)v).ToArray(), DataType.Float16);
    }

    [Fact]
    public void Progress_covers_every_byte_and_deferred_weights_are_loaded_once_while_writing()
    {
        using var folder = new TempFolder("onnx-writer");
        var g = new OnnxGraphBuilder();
        var x = g.AddInput("x", DataType.Float, ["batch", 1 << 16]);
        var loads = 0;
        var values = Numerics.Normal(5, 1 << 16);
        var w = g.AddDeferredInitializer("big", [1 << 16], DataType.Float, () =>
        {
            loads++;
            return values;
        });
        g.AddOutput(g.Mul(x, w), DataType.Float, ["batch", 1 << 16], "y");
        Assert.Equal(0, loads);
        var reports = new List<OnnxWriteProgress>();

        OnnxModelWriter.Write(g, folder.Combine("m.onnx"), progress: new SynchronousProgress<OnnxWriteProgress>(reports.Add));

        Assert.Equal(1, loads);
        Assert.NotEmpty(reports);
        Assert.Equal(reports[^1].TotalBytes, reports[^1].BytesWritten);
        Assert.Equal(4L << 16, reports[^1].TotalBytes);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.BytesWritten <= p.Second.BytesWritten));
        Assert.Equal(1.0, reports[^1].Fraction);
    }

    [Fact]
    public void Cancelling_leaves_no_model_and_keeps_the_previous_one()
    {
        using var folder = new TempFolder("onnx-writer");
        var path = folder.Combine("model.onnx");
        var (first, weight, bias) = LinearModel(DataType.Float);
        OnnxModelWriter.Write(first, path);
        var before = File.ReadAllBytes(path);

        var (second, _, _) = LinearModel(DataType.Float);
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress<OnnxWriteProgress>(_ => cancellation.Cancel());
        Assert.ThrowsAny<OperationCanceledException>(() => OnnxModelWriter.Write(second, path, progress: progress, cancellationToken: cancellation.Token));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.onnx", "model.onnx_data" }, Directory.GetFileSystemEntries(folder.Path).Select(p => Path.GetFileName(p)!).Order());
        AssertLinearModelRuns(path, weight, bias);
    }

    [Fact]
    public void A_model_without_external_tensors_removes_a_stale_data_file()
    {
        using var folder = new TempFolder("onnx-writer");
        var path = folder.Combine("model.onnx");
        File.WriteAllText(folder.Combine("model.onnx_data"), "stale");
        var g = new OnnxGraphBuilder();
        g.AddOutput(g.Neg(g.AddInput("x", DataType.Float, [1])), DataType.Float, [1], "y");

        var written = OnnxModelWriter.Write(g, path);

        Assert.Null(written.ExternalDataPath);
        Assert.False(File.Exists(folder.Combine("model.onnx_data")));
        Assert.Equal(new float[] { -2 }, OrtTestRunner.Run(new InferenceSession(path), [OrtInput.Of("x", new float[] { 2 }, 1)])["y"].Floats);
    }

    [Fact]
    public async Task WriteAsync_writes_the_same_model_with_a_custom_data_file_name_and_alignment()
    {
        using var folder = new TempFolder("onnx-writer");
        var (builder, weight, bias) = LinearModel(DataType.Float);
        var path = folder.Combine("vision.onnx");

        var written = await OnnxModelWriter.WriteAsync(builder, path, new OnnxWriteOptions { ExternalDataFileName = "vision.weights", ExternalDataAlignment = 4096 });

        Assert.Equal(folder.Combine("vision.weights"), written.ExternalDataPath);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.All(model.Graph.Initializer.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External),
            t => Assert.Equal(0, long.Parse(t.ExternalData.Single(e => e.Key == "offset").Value, System.Globalization.CultureInfo.InvariantCulture) % 4096));
        AssertLinearModelRuns(path, weight, bias);
    }

    [Fact]
    public void Bad_options_are_refused_with_a_clear_message()
    {
        var (builder, _, _) = LinearModel(DataType.Float);
        var error = Assert.Throws<ArgumentException>(() => OnnxModelWriter.Write(builder, Path.Combine(Path.GetTempPath(), "x.onnx"), new OnnxWriteOptions { ExternalDataAlignment = 48 }));
        Assert.Contains("power of two", error.Message, StringComparison.Ordinal);
    }

    /// <summary>y = x · W + b with W (64, 64) and a 64-element bias (256 bytes: inline) plus a 4 KiB "bias_big".</summary>
    private static (OnnxGraphBuilder Builder, float[] Weight, float[] Bias) LinearModel(DataType storeAs)
    {
        var weight = Numerics.Normal(1, Hidden * Hidden, std: 0.1);
        var bias = Numerics.Normal(2, Hidden);
        var big = new float[1024];
        var g = new OnnxGraphBuilder();
        var io = storeAs;
        var x = g.AddInput("x", io, ["batch", Hidden]);
        var w = g.AddInitializer("linear.weight", weight, [Hidden, Hidden], storeAs);
        var b = g.AddInitializer("linear.bias", bias, [Hidden], storeAs);
        var unused = g.AddInitializer("linear.bias_big", big, [1024], DataType.Float);
        var y = g.Add(g.MatMul(x, w), b);
        g.AddOutput(y, io, ["batch", Hidden], "y");
        g.AddOutput(g.ReduceSum(unused, [0], keepDims: false), DataType.Float, [], "unused_sum");
        return (g, weight, bias);
    }

    private static void AssertLinearModelRuns(string path, float[] weight, float[] bias, DataType io = DataType.Float)
    {
        var x = Numerics.Normal(3, 2 * Hidden);
        using var session = new InferenceSession(path);
        var input = io == DataType.Float ? OrtInput.Of("x", x, 2, Hidden) : OrtInput.Of("x", Numerics.ToHalf(x), 2, Hidden);
        var xs = io == DataType.Float ? x : Numerics.RoundToHalf(x);
        var y = OrtTestRunner.Run(session, [input])["y"].Floats;
        var expected = Reference.LinearAsFloat(xs, weight, bias, Hidden, Hidden);
        var tolerance = io == DataType.Float ? 1e-5 : 1e-2;
        Numerics.AssertClose(expected.Select(v => (double)v).ToArray(), y, tolerance);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
