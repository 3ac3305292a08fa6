using global::TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// <c>PatchEmbed</c> (<c>visual.patch_embed</c>): a Conv3d with kernel = stride = <c>(temporal, patch, patch)</c> and no
/// bias over each flattened patch row (spec §3.5 step 1). Because kernel and stride coincide and the row layout equals
/// the kernel's memory layout, the convolution is exactly a matrix product of the rows with the kernel reshaped to
/// <c>(embed, C·T·P·P)</c>; the parameter keeps the Conv3d name and shape.
/// </summary>
internal sealed class VisionPatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly long _embedDim;
    private Conv3d proj;

    public VisionPatchEmbed(Qwen2VlVisionConfig config, ScalarType dtype)
        : base(nameof(VisionPatchEmbed))
    {
        _embedDim = config.EmbedDim;
        var kernel = ((long)config.TemporalPatchSize, (long)config.PatchSize, (long)config.PatchSize);
        proj = nn.Conv3d(config.InChannels, config.EmbedDim, kernel, stride: kernel, bias: false, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="pixelValues"><c>(P, C·T·P·P)</c>.</param>
    /// <returns><c>(P, embed)</c> in the weight dtype.</returns>
    public override Tensor forward(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        var weight = proj.weight!;
        var rows = pixelValues.to(weight.dtype);
        return nn.functional.linear(rows, weight.reshape(_embedDim, -1)).MoveToOuterDisposeScope();
    }
}
