using global::TorchSharp.Modules;
using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// <c>Qwen2VisionTransformerPretrainedModel</c> (checkpoint prefix <c>visual.</c>): patch embedding, 2-D rotary ViT blocks
/// with block-diagonal attention per image and temporal slice, and the patch merger (spec §3.5).
/// </summary>
internal sealed class Qwen2VisionTransformer : nn.Module<Tensor, long[], Tensor>
{
    private readonly Qwen2VlVisionConfig _config;

    private VisionPatchEmbed patch_embed;
    private ModuleList<Qwen2VlVisionBlock> blocks;
    private PatchMerger merger;

    public Qwen2VisionTransformer(Qwen2VlVisionConfig config, ScalarType dtype, Qwen2VlAttentionImplementation implementation)
        : base(nameof(Qwen2VisionTransformer))
    {
        _config = config;
        patch_embed = new VisionPatchEmbed(config, dtype);
        var visionBlocks = new Qwen2VlVisionBlock[config.Depth];
        for (var i = 0; i < visionBlocks.Length; i++)
        {
            visionBlocks[i] = new Qwen2VlVisionBlock(config, dtype, implementation);
        }

        blocks = nn.ModuleList(visionBlocks);
        merger = new PatchMerger(config, dtype);
        RegisterComponents();
    }

    /// <param name="pixelValues"><c>(P, C·T·P·P)</c>, any float dtype (cast to the weights' dtype).</param>
    /// <param name="gridThw">Flat <c>(N, 3)</c> grids (t, h, w), already validated against <paramref name="pixelValues"/>.</param>
    /// <returns>Merged features <c>(P / merge², hidden)</c> in block raster order, image after image.</returns>
    public override Tensor forward(Tensor pixelValues, long[] gridThw) => Run(pixelValues, gridThw, null);

    /// <summary>The forward, also returning the patch embedding and every block's output (for parity checks).</summary>
    internal (Tensor Merged, Tensor PatchEmbed, List<Tensor> BlockOutputs) ForwardWithIntermediates(Tensor pixelValues, long[] gridThw)
    {
        var intermediates = new List<Tensor>(blocks.Count + 1);
        var merged = Run(pixelValues, gridThw, intermediates);
        return (merged, intermediates[0], intermediates[1..]);
    }

    private Tensor Run(Tensor pixelValues, long[] gridThw, List<Tensor>? intermediates)
    {
        using var scope = NewDisposeScope();
        var hidden = patch_embed.call(pixelValues);
        intermediates?.Add(hidden);
        using var ids = tensor(RowColumnIds(gridThw, _config.SpatialMergeSize), [hidden.shape[0], 2]);
        var (cos, sin) = RotaryEmbedding.VisionCosSin(ids, _config.HeadDim);
        var segments = SegmentLengths(gridThw);
        for (var i = 0; i < blocks.Count; i++)
        {
            var next = blocks[i].call(hidden, cos, sin, segments);
            if (intermediates is null)
            {
                hidden.Dispose();
            }
            else
            {
                intermediates.Add(next);
            }

            hidden = next;
        }

        if (intermediates is not null)
        {
            foreach (var t in intermediates)
            {
                t.MoveToOuterDisposeScope();
            }
        }

        return merger.call(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The reference <c>rot_pos_emb</c> ids: per patch its (row, column) in the patch grid, enumerated in merge-block
    /// order (block row, block column, row inside the block, column inside the block), repeated for every temporal
    /// index. Flat <c>(P, 2)</c>.
    /// </summary>
    internal static long[] RowColumnIds(long[] gridThw, int mergeSize)
    {
        long total = 0;
        for (var i = 0; i < gridThw.Length; i += 3)
        {
            total += gridThw[i] * gridThw[i + 1] * gridThw[i + 2];
        }

        var ids = new long[total * 2];
        long k = 0;
        for (var i = 0; i < gridThw.Length; i += 3)
        {
            long t = gridThw[i], h = gridThw[i + 1], w = gridThw[i + 2];
            for (long ti = 0; ti < t; ti++)
            {
                for (long hb = 0; hb < h / mergeSize; hb++)
                {
                    for (long wb = 0; wb < w / mergeSize; wb++)
                    {
                        for (long hi = 0; hi < mergeSize; hi++)
                        {
                            for (long wi = 0; wi < mergeSize; wi++)
                            {
                                ids[k++] = (hb * mergeSize) + hi;
                                ids[k++] = (wb * mergeSize) + wi;
                            }
                        }
                    }
                }
            }
        }

        return ids;
    }

    /// <summary>Differences of the reference <c>cu_seqlens</c>: <c>h·w</c> repeated <c>t</c> times per image.</summary>
    internal static long[] SegmentLengths(long[] gridThw)
    {
        var segments = new List<long>();
        for (var i = 0; i < gridThw.Length; i += 3)
        {
            for (long t = 0; t < gridThw[i]; t++)
            {
                segments.Add(gridThw[i + 1] * gridThw[i + 2]);
            }
        }

        return [.. segments];
    }
}
