namespace Vlm2Vec.TorchSharp.Modeling;

/// <summary>
/// Position ids <c>(3, B, L)</c> computed exactly like Hugging Face <c>Qwen2VLModel.get_rope_index</c> (spec §3.8), quirks
/// included:
/// <list type="bullet">
/// <item>without image grids every stream is <c>cumsum(mask) − 1</c>, padding set to 1;</item>
/// <item>with image grids, per row over its real tokens: an image counts only when a <c>vision_start</c> token is directly
/// followed by an image token; each counted image takes the next grid of the batch (a batch-wide counter, so an
/// uncounted image's grid is not skipped) and lays its placeholders out on a (t, h/merge, w/merge) grid after the
/// preceding text; text restarts at the previous chunk's maximum + 1; padding is 1.</item>
/// </list>
/// VLM2Vec prompts have no <c>vision_start</c>, so they always get plain 1-D positions (spec §4.2).
/// </summary>
internal static class Qwen2VlRopeIndex
{
    /// <summary>Computes the position ids.</summary>
    /// <param name="inputIds">Flat <c>(B, L)</c>.</param>
    /// <param name="attentionMask">Flat <c>(B, L)</c>, or null for no padding.</param>
    /// <param name="batch">B.</param>
    /// <param name="length">L.</param>
    /// <param name="imageGridThw">Flat <c>(N, 3)</c>, or null when the batch has no images.</param>
    /// <param name="config">Token ids and the merge size.</param>
    /// <returns>Flat <c>(3, B, L)</c>.</returns>
    /// <exception cref="InvalidInputException">The tokens and grids do not fit together (the reference fails there too).</exception>
    public static long[] Compute(ReadOnlySpan<long> inputIds, ReadOnlySpan<long> attentionMask, int batch, int length, long[]? imageGridThw, Qwen2VlConfig config)
    {
        var plane = (long)batch * length;
        var positions = new long[3 * plane];
        var hasMask = !attentionMask.IsEmpty;
        if (imageGridThw is null)
        {
            for (var b = 0; b < batch; b++)
            {
                long running = -1;
                for (var j = 0; j < length; j++)
                {
                    var at = ((long)b * length) + j;
                    long value;
                    if (!hasMask)
                    {
                        value = j;
                    }
                    else
                    {
                        running += attentionMask[(int)at];
                        value = attentionMask[(int)at] == 0 ? 1 : running;
                    }

                    positions[at] = positions[plane + at] = positions[(2 * plane) + at] = value;
                }
            }

            return positions;
        }

        Array.Fill(positions, 1L);
        var merge = config.Vision.SpatialMergeSize;
        var imageIndex = 0;
        var columns = new int[length];
        var tokens = new long[length];
        var rowPositions = new long[3 * length];
        for (var b = 0; b < batch; b++)
        {
            var n = 0;
            for (var j = 0; j < length; j++)
            {
                var at = (b * length) + j;
                if (!hasMask || attentionMask[at] == 1)
                {
                    columns[n] = j;
                    tokens[n++] = inputIds[at];
                }
            }

            var imageCount = 0;
            for (var j = 0; j + 1 < n; j++)
            {
                if (tokens[j] == config.VisionStartTokenId)
                {
                    if (tokens[j + 1] == config.ImageTokenId)
                    {
                        imageCount++;
                    }
                    else if (tokens[j + 1] == config.VideoTokenId)
                    {
                        throw new InvalidInputException($"Row {b} contains a video placeholder; videos are not supported by this model implementation.");
                    }
                }
            }

            var filled = 0;            // positions assigned so far in this row
            long lastChunkMax = -1;    // max of the last appended chunk (the reference's llm_pos_ids_list[-1].max())
            var st = 0;
            for (var image = 0; image < imageCount; image++)
            {
                var ed = IndexOf(tokens, n, config.ImageTokenId, st);
                if (ed < 0)
                {
                    throw new InvalidInputException($"Row {b}: an image placeholder expected after token {st} is missing.");
                }

                if ((imageIndex * 3) + 2 >= imageGridThw.Length)
                {
                    throw new InvalidInputException(
                        $"Row {b} needs image grid {imageIndex + 1} but the batch has only {imageGridThw.Length / 3} (image_grid_thw rows are taken in order by vision_start + image placeholder runs).");
                }

                var t = imageGridThw[imageIndex * 3];
                var h = imageGridThw[(imageIndex * 3) + 1] / merge;
                var w = imageGridThw[(imageIndex * 3) + 2] / merge;
                imageIndex++;

                var textLength = ed - st;
                var start = lastChunkMax < 0 ? 0 : lastChunkMax + 1;
                for (var k = 0; k < textLength; k++)
                {
                    Put(rowPositions, length, ref filled, start + k, start + k, start + k);
                }

                var offset = start + textLength;
                var gridTokens = t * h * w;
                if (filled + gridTokens > n)
                {
                    throw new InvalidInputException(
                        $"Row {b}: image grid ({t}, {h * merge}, {w * merge}) needs {gridTokens} placeholder positions but only {n - filled} real tokens remain (was the text truncated inside an image run?).");
                }

                long chunkMax = offset;
                for (long ti = 0; ti < t; ti++)
                {
                    for (long hi = 0; hi < h; hi++)
                    {
                        for (long wi = 0; wi < w; wi++)
                        {
                            Put(rowPositions, length, ref filled, offset + ti, offset + hi, offset + wi);
                            chunkMax = Math.Max(chunkMax, Math.Max(offset + ti, Math.Max(offset + hi, offset + wi)));
                        }
                    }
                }

                lastChunkMax = chunkMax;
                st = ed + (int)gridTokens;
            }

            if (st < n)
            {
                var start = lastChunkMax < 0 ? 0 : lastChunkMax + 1;
                for (var k = 0; k < n - st; k++)
                {
                    Put(rowPositions, length, ref filled, start + k, start + k, start + k);
                }
            }

            if (filled != n)
            {
                throw new InvalidInputException($"Row {b}: {filled} positions were laid out for {n} real tokens; the image placeholders and grids do not match.");
            }

            for (var k = 0; k < n; k++)
            {
                var at = ((long)b * length) + columns[k];
                positions[at] = rowPositions[k];
                positions[plane + at] = rowPositions[length + k];
                positions[(2 * plane) + at] = rowPositions[(2 * length) + k];
            }
        }

        return positions;
    }

    private static void Put(long[] rowPositions, int length, ref int filled, long t, long h, long w)
    {
        rowPositions[filled] = t;
        rowPositions[length + filled] = h;
        rowPositions[(2 * length) + filled] = w;
        filled++;
    }

    private static int IndexOf(long[] tokens, int count, long value, int start)
    {
        for (var i = start; i < count; i++)
        {
            if (tokens[i] == value)
            {
                return i;
            }
        }

        return -1;
    }
}
