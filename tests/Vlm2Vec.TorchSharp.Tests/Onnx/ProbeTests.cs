using Vlm2Vec.TorchSharp.Onnx;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Vlm2Vec.TorchSharp.Tests.Onnx;

public sealed class ProbeTests(ITestOutputHelper output)
{
    private void Try(string what, int opset, Action<OnnxGraphBuilder> build, params OrtInput[] inputs)
    {
        try
        {
            var b = new OnnxGraphBuilder(new OnnxGraphBuilderOptions { OpsetVersion = opset });
            build(b);
            var r = OrtTestRunner.Run(b, inputs);
            output.WriteLine($"OK   {what} opset {opset}: {string.Join(",", r.Values.First().Shape)} {string.Join(" ", r.Values.First().Floats.Take(3))}");
        }
        catch (Exception ex)
        {
            output.WriteLine($"FAIL {what} opset {opset}: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 99)]
    [InlineData(5, 99)]
    [InlineData(6, 99)]
    public void ProbeMrope(int stage, int level)
    {
        var pos = RotaryExactnessTests.Positions3;
        var b = new OnnxGraphBuilder();
        var p = b.AddInput("position_ids", DataType.Int64, [3, "batch", "sequence"]);
        string y = stage switch
        {
            0 => b.Transpose(p, 1, 2, 0),
            1 => b.Cast(b.Transpose(p, 1, 2, 0), DataType.Float),
            2 => b.MatMul(b.Cast(b.Transpose(p, 1, 2, 0), DataType.Float), b.AddInitializer("sel", new float[3 * 64], [3, 64])),
            4 => b.MatMul(b.Transpose(b.Cast(p, DataType.Float), 1, 2, 0), b.AddInitializer("sel", new float[3 * 64], [3, 64])),
            5 => b.ReduceSum(b.Mul(b.Unsqueeze(b.Cast(p, DataType.Float), -1), b.AddInitializer("sel", new float[3 * 64], [3, 1, 1, 64])), [0], keepDims: false),
            6 => b.MatMul(b.Cast(b.Transpose(p, 1, 2, 0), DataType.Float), b.AddInitializer("sel", Enumerable.Range(0, 192).Select(i => 0.1f * i).ToArray(), [3, 64])),
            _ => b.MropeCosSin(p, RotaryExactnessTests.DecoderInvFreq, [16, 24, 24]).Cos,
        };
        b.AddOutput(y, stage == 0 ? DataType.Int64 : DataType.Float, ["a", "b", "c"], "y");
        var r = OrtTestRunner.Run(b, [OrtInput.Of("position_ids", pos, 3, 2, 12)], (Microsoft.ML.OnnxRuntime.GraphOptimizationLevel)level);
        output.WriteLine($"stage {stage}: {string.Join(",", r["y"].Shape)}");
    }

    [Fact]
    public void Probe()
    {
        var x = Numerics.Normal(1, 2 * 3 * 8);
        var xIn = OrtInput.Of("x", x, 2, 3, 8);
        var xh = OrtInput.Of("x", Numerics.ToHalf(x), 2, 3, 8);
        foreach (var opset in new[] { 21, 23, 24, 25, 26 })
        {
            Try("Identity", opset, b => { b.AddInput("x", DataType.Float, [2, 3, 8]); b.AddOutput(b.Op("Relu", ["x"]), DataType.Float, [2, 3, 8], "y"); }, xIn);
        }
        Try("RMSNormalization", 23, b => { b.AddInput("x", DataType.Float, [2, 3, 8]); var w = b.AddInitializer("w", new float[8].Select(_ => 1f).ToArray(), [8]); b.AddOutput(b.RmsNormalization("x", w, 1e-6f), DataType.Float, [2, 3, 8], "y"); }, xIn);
        Try("SimplifiedLN", 21, b => { b.AddInput("x", DataType.Float, [2, 3, 8]); var w = b.AddInitializer("w", new float[8].Select(_ => 1f).ToArray(), [8]); b.AddOutput(b.SimplifiedLayerNormalization("x", w, 1e-6f), DataType.Float, [2, 3, 8], "y"); }, xIn);
        Try("SimplifiedLN fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); var w = b.AddInitializer("w", new float[8].Select(_ => 1f).ToArray(), [8], DataType.Float16); b.AddOutput(b.SimplifiedLayerNormalization("x", w, 1e-6f), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("RMSNormalization fp16", 23, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); var w = b.AddInitializer("w", new float[8].Select(_ => 1f).ToArray(), [8], DataType.Float16); b.AddOutput(b.RmsNormalization("x", w, 1e-6f), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("MatMul fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); var w = b.AddInitializer("w", new float[64].Select(_ => 0.1f).ToArray(), [8, 8], DataType.Float16); b.AddOutput(b.MatMul("x", w), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("Add fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.Add("x", "x"), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("Mul fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.Mul("x", "x"), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("Softmax fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.Softmax("x"), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("Sigmoid fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.Sigmoid("x"), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("QuickGelu fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.QuickGelu("x", 1.702f), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("Gelu ms fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.MicrosoftGelu("x"), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("Gelu onnx fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.Gelu("x"), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("LayerNorm fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); var w = b.AddInitializer("w", new float[8].Select(_ => 1f).ToArray(), [8], DataType.Float16); b.AddOutput(b.LayerNormalization("x", w, w, 1e-6f), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("MHA fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.MultiHeadAttention("x", "x", "x", 2), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("MHA fp32", 21, b => { b.AddInput("x", DataType.Float, [2, 3, 8]); b.AddOutput(b.MultiHeadAttention("x", "x", "x", 2), DataType.Float, [2, 3, 8], "y"); }, xIn);
        Try("Attention23 fp32", 23, b => { b.AddInput("x", DataType.Float, [2, 3, 8]); b.AddOutput(b.OnnxAttention("x", "x", "x", null, 2, 2), DataType.Float, [2, 3, 8], "y"); }, xIn);
        Try("Attention23 fp16", 23, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.OnnxAttention("x", "x", "x", null, 2, 2), DataType.Float16, [2, 3, 8], "y"); }, xh);
        Try("Cast fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); b.AddOutput(b.Cast("x", DataType.Float), DataType.Float, [2, 3, 8], "y"); }, xh);
        Try("SkipSimplified fp16", 21, b => { b.AddInput("x", DataType.Float16, [2, 3, 8]); var w = b.AddInitializer("w", new float[8].Select(_ => 1f).ToArray(), [8], DataType.Float16); b.AddOutput(b.SkipSimplifiedLayerNormalization("x", "x", w, 1e-6f).Output, DataType.Float16, [2, 3, 8], "y"); }, xh);
    }
}
