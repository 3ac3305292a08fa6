using Microsoft.ML.OnnxRuntime;
using Vlm2Vec.TorchSharp.Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

public sealed class OnnxGraphBuilderTests
{
    [Fact]
    public void Nodes_get_unique_scoped_names_and_outputs_are_named_after_them()
    {
        var g = new OnnxGraphBuilder();
        var x = g.AddInput("x", DataType.Float, ["batch", 4]);
        string first, second, outer;
        using (g.Scope("model"))
        {
            using (g.Scope("layers.0"))
            {
                first = g.Add(x, x);
                second = g.Add(first, x);
            }

            outer = g.Add(second, x);
        }

        var top = g.Add(outer, x);

        Assert.Equal("/model/layers.0/Add/output_0", first);
        Assert.Equal("/model/layers.0/Add_1/output_0", second);
        Assert.Equal("/model/Add/output_0", outer);
        Assert.Equal("/Add/output_0", top);
        Assert.Equal(["/model/layers.0/Add", "/model/layers.0/Add_1", "/model/Add", "/Add"], g.Nodes.Select(n => n.Name));
    }

    [Fact]
    public void A_node_may_only_read_existing_values()
    {
        var g = new OnnxGraphBuilder();
        g.AddInput("x", DataType.Float, [2]);

        var error = Assert.Throws<ArgumentException>(() => g.Add("x", "typo"));

        Assert.Contains("'typo'", error.Message, StringComparison.Ordinal);
        Assert.Contains("input 1 of Add", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, g.NodeCount);
    }

    [Fact]
    public void Value_names_are_unique_and_initializer_shapes_must_match_their_data()
    {
        var g = new OnnxGraphBuilder();
        g.AddInput("x", DataType.Float, [2]);
        Assert.Throws<ArgumentException>(() => g.AddInitializer("x", new float[2], [2]));

        var error = Assert.Throws<ArgumentException>(() => g.AddInitializer("w", new float[5], [2, 3]));
        Assert.Contains("5 values", error.Message, StringComparison.Ordinal);
        Assert.Contains("needs 6", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constants_are_shared()
    {
        var g = new OnnxGraphBuilder();
        Assert.Same(g.Int64Constant(0, 0, -1), g.Int64Constant(0, 0, -1));
        Assert.NotEqual(g.Int64Constant(0, -1), g.Int64Constant(0, 0, -1));
        Assert.Equal(g.FloatScalar(0.5f), g.FloatScalar(0.5f));
        Assert.NotEqual(g.FloatScalar(0.5f), g.FloatScalar(0.5f, DataType.Float16));
        Assert.Equal(4, g.Initializers.Count);
    }

    [Fact]
    public void Operators_newer_than_the_opset_are_refused_when_written()
    {
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = 21 });
        var x = g.AddInput("x", DataType.Float, [2, 4]);
        var w = g.AddInitializer("w", new float[4], [4]);

        var error = Assert.Throws<InvalidOperationException>(() => g.RmsNormalization(x, w, 1e-6f));
        Assert.Contains("opset 23", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ort_sees_symbolic_dimensions_metadata_opsets_and_doc_strings()
    {
        var g = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { DocString = "test model", GraphName = "g" });
        var x = g.AddInput("input_ids", DataType.Int64, ["batch", "sequence"], "token ids");
        var table = g.AddInitializer("embed_tokens.weight", Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), [4, 3]);
        var embeds = g.Gather(table, x);
        g.SetValueInfo(embeds, DataType.Float, ["batch", "sequence", 3]);
        g.AddOutput(embeds, DataType.Float, ["batch", "sequence", 3], "inputs_embeds");
        g.AddMetadata("vlm2vec.architecture", "qwen2_vl");

        using var session = new InferenceSession(g.ToBytes());

        Assert.Equal(["batch", "sequence"], session.InputMetadata["input_ids"].SymbolicDimensions);
        Assert.Equal([-1, -1, 3], session.OutputMetadata["inputs_embeds"].Dimensions);
        Assert.Equal("qwen2_vl", session.ModelMetadata.CustomMetadataMap["vlm2vec.architecture"]);
        Assert.Equal("test model", session.ModelMetadata.Description);
        Assert.Equal("g", session.ModelMetadata.GraphName);
        Assert.Equal("Vlm2Vec.TorchSharp", session.ModelMetadata.ProducerName);

        var result = OrtTestRunner.Run(session, [OrtInput.Of("input_ids", new long[] { 3, 0 }, 1, 2)])["inputs_embeds"];
        Assert.Equal(new float[] { 9, 10, 11, 0, 1, 2 }, result.Floats);
    }

    [Fact]
    public void Duplicate_metadata_keys_are_refused()
    {
        var g = new OnnxGraphBuilder();
        g.AddMetadata("k", "1");
        Assert.Throws<ArgumentException>(() => g.AddMetadata("k", "2"));
    }

    [Fact]
    public void Optional_outputs_can_be_left_unused_and_graph_outputs_renamed()
    {
        var g = new OnnxGraphBuilder();
        var x = g.AddInput("x", DataType.Float, [1, 2, 4]);
        var w = g.AddInitializer("w", new float[] { 1, 1, 1, 1 }, [4]);
        var (normed, sum) = g.SkipSimplifiedLayerNormalization(x, x, w, 1e-6f);
        var node = g.Nodes[^1];
        Assert.Equal(["", ""], node.Output.Skip(1).Take(2));
        g.AddOutput(normed, DataType.Float, [1, 2, 4], "y");
        g.AddOutput(sum, DataType.Float, [1, 2, 4]);

        var outputs = OrtTestRunner.Run(g, [OrtInput.Of("x", new float[] { 1, 2, 3, 4, -1, 0, 0, 1 }, 1, 2, 4)]);

        Assert.Equal(new float[] { 2, 4, 6, 8, -2, 0, 0, 2 }, outputs[sum].Floats);
        Assert.Equal(1f, outputs["y"].Floats.Take(4).Select(v => v * v).Average(), 4);
    }
}
