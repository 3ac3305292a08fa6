using System.Collections.Concurrent;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.OnnxRuntime;

/// <summary>
/// Splits a batch's images into vision-graph runs: consecutive images with the same patch grid (h, w) go into one run
/// as <c>(Σt, h·w, row)</c>, each temporal slice attending only to itself — HF's block-diagonal attention over
/// <c>cu_seqlens</c> without a mask. Same-grid images are contiguous in <see cref="CollatedBatch.PixelValues"/>, so a
/// run reads them in place. A run never exceeds the patch budget unless a single image does.
/// </summary>
internal static class VisionRunPlan
{
    private const int MaxCachedGrids = 512;
    private static readonly ConcurrentDictionary<long, long[]> RotaryIdsByGrid = new();

    /// <summary>Plans the runs of <paramref name="batch"/>; <paramref name="imageTokens"/> receives the feature rows in all.</summary>
    public static List<VisionRun> Plan(CollatedBatch batch, int mergeSize, int maxPatchesPerRun, out int imageTokens)
    {
        var runs = new List<VisionRun>();
        var grid = batch.ImageGridThw;
        long pixelOffset = 0;
        imageTokens = 0;
        var merge2 = mergeSize * mergeSize;
        for (var image = 0; image < batch.ImageCount; image++)
        {
            var (t, h, w) = ((int)grid[3 * image], (int)grid[(3 * image) + 1], (int)grid[(3 * image) + 2]);
            var patches = checked(t * h * w);
            var last = runs.Count > 0 ? runs[^1] : null;
            if (last is not null && last.GridH == h && last.GridW == w && (long)(last.Slices + t) * h * w <= maxPatchesPerRun)
            {
                last.Slices += t;
                last.ImageCount++;
            }
            else
            {
                runs.Add(new VisionRun { FirstImage = image, ImageCount = 1, Slices = t, GridH = h, GridW = w, PixelOffset = pixelOffset, FeatureRowOffset = imageTokens });
            }

            pixelOffset += (long)patches * batch.PatchRowLength;
            imageTokens = checked(imageTokens + (patches / merge2));
        }

        return runs;
    }

    /// <summary>
    /// The ViT's (row, column) id of each patch of an h×w grid, <c>(h·w, 2)</c>, in the processor's merge-block order
    /// (spec §3.5: 2×2 blocks in raster order, raster order inside a block). Cached per grid; callers must not modify it.
    /// </summary>
    public static long[] RotaryIds(int gridH, int gridW, int mergeSize)
    {
        var key = ((long)gridH << 32) | (uint)gridW;
        if (RotaryIdsByGrid.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var ids = new long[2 * gridH * gridW];
        var n = 0;
        for (var blockRow = 0; blockRow < gridH / mergeSize; blockRow++)
        {
            for (var blockColumn = 0; blockColumn < gridW / mergeSize; blockColumn++)
            {
                for (var dr = 0; dr < mergeSize; dr++)
                {
                    for (var dc = 0; dc < mergeSize; dc++)
                    {
                        ids[n++] = (blockRow * mergeSize) + dr;
                        ids[n++] = (blockColumn * mergeSize) + dc;
                    }
                }
            }
        }

        if (RotaryIdsByGrid.Count >= MaxCachedGrids)
        {
            RotaryIdsByGrid.Clear();
        }

        return RotaryIdsByGrid.GetOrAdd(key, ids);
    }
}
