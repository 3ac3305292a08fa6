using static TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Modeling;

public sealed class SmokeTests
{
    [Fact]
    public void Forward_runs_on_text_and_image_rows()
    {
        using var model = TinyQwen2Vl.Create();
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var rows = new[] { TinyQwen2Vl.Row(4, 5, 6, 7), TinyQwen2Vl.Row(0, 8, 9) };
        var output = TinyQwen2Vl.Run(model, rows, images: [(1, 4, 4, TinyQwen2Vl.Pixels(1, 4, 4, 1))], hiddenStates: true);
        Assert.Equal(new long[] { 2, 7, 64 }, output.LastHiddenState.shape);
        Assert.Equal(new long[] { 2, 64 }, output.Embeddings.shape);
        Assert.Equal(3, output.HiddenStates!.Count);
        var norm = output.Embeddings.norm(1).data<float>().ToArray();
        Assert.All(norm, n => Assert.Equal(1f, n, 5));
    }
}
