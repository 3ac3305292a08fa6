namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Rotary position ids of one row's real (non-pad) tokens, following Hugging Face
/// <c>Qwen2VLModel.get_rope_index</c> step by step (spec §3.8): written by hand because no .NET package implements
/// Qwen2-VL's M-RoPE layout.
/// </summary>
internal static class RopeIndex
{
    /// <summary>1-D positions <c>0..n-1</c> on all three streams (the no-grid branch: <c>cumsum(mask) - 1</c>).</summary>
    internal static void Sequential(Span<long> t, Span<long> h, Span<long> w)
    {
        for (var i = 0; i < t.Length; i++)
        {
            t[i] = i;
            h[i] = i;
            w[i] = i;
        }
    }

    /// <summary>
    /// The per-row branch of <c>get_rope_index</c> taken when the batch has image grids. Items are counted as the
    /// vision-start tokens whose next token is an image (or video) placeholder; a placeholder run without a vision start
    /// is not counted, so such a row gets plain 1-D positions. Each counted item takes the next grid of the batch
    /// (<paramref name="imageIndex"/>, consumed in batch order across rows) and is located at the first image-placeholder
    /// token at or after the cursor, exactly as the reference does.
    /// </summary>
    /// <exception cref="InvalidInputException">The row references a video, more images than there are grids, or placeholder runs that do not match the grids.</exception>
    internal static void MultimodalRow(
        ReadOnlySpan<int> ids, ReadOnlySpan<long> grids, ref int imageIndex, BatchCollatorOptions options, int row,
        Span<long> t, Span<long> h, Span<long> w)
    {
        var n = ids.Length;
        var imageToken = options.ImageTokenId;
        int imageItems = 0, videoItems = 0;
        for (var i = 0; i + 1 < n; i++)
        {
            if (ids[i] == options.VisionStartTokenId)
            {
                if (ids[i + 1] == imageToken)
                {
                    imageItems++;
                }
                else if (ids[i + 1] == options.VideoTokenId)
                {
                    videoItems++;
                }
            }
        }

        if (videoItems > 0)
        {
            throw new BatchItemException(row, new InvalidInputException(
                $"Row {row} has {videoItems} vision-start marker(s) followed by a video placeholder; videos are not supported, only images."));
        }

        var merge = options.SpatialMergeSize;
        var cursor = 0;     // next output column
        var st = 0;         // reference's `st`: next input token to place
        var lastMax = -1L;  // max position of the last chunk (reference: llm_pos_ids_list[-1].max())
        for (var item = 0; item < imageItems; item++)
        {
            var ed = ids[st..].IndexOf(imageToken);
            if (ed < 0)
            {
                throw new BatchItemException(row, new InvalidInputException(
                    $"Row {row}: image item {item + 1} of {imageItems} has no image placeholder at or after token {st}; the placeholder runs do not match the image grids."));
            }

            ed += st;
            if (imageIndex * 3 + 3 > grids.Length)
            {
                throw new BatchItemException(row, new InvalidInputException(
                    $"Row {row} needs image grid #{imageIndex + 1} but the batch has only {grids.Length / 3} image(s): " +
                    "every vision-start + image placeholder pair consumes one image, in batch order."));
            }

            var gridT = grids[imageIndex * 3];
            var gridH = grids[imageIndex * 3 + 1] / merge;
            var gridW = grids[imageIndex * 3 + 2] / merge;
            imageIndex++;

            var textLength = ed - st;
            var start = lastMax + 1;
            for (var j = 0; j < textLength; j++)
            {
                t[cursor] = h[cursor] = w[cursor] = start + j;
                cursor++;
            }

            var imageStart = start + textLength;
            var count = gridT * gridH * gridW;
            if (cursor + count > n)
            {
                throw new BatchItemException(row, new InvalidInputException(
                    $"Row {row}: image grid ({gridT}, {gridH * merge}, {gridW * merge}) needs {count} tokens from token {ed} but the row has {n} tokens."));
            }

            for (var ti = 0; ti < gridT; ti++)
            {
                for (var hi = 0; hi < gridH; hi++)
                {
                    for (var wi = 0; wi < gridW; wi++)
                    {
                        t[cursor] = imageStart + ti;
                        h[cursor] = imageStart + hi;
                        w[cursor] = imageStart + wi;
                        cursor++;
                    }
                }
            }

            lastMax = imageStart + Math.Max(gridT - 1, Math.Max(gridH - 1, gridW - 1));
            st = ed + (int)count;
        }

        if (st < n)
        {
            var start = lastMax + 1;
            for (var j = 0; j < n - st; j++)
            {
                t[cursor] = h[cursor] = w[cursor] = start + j;
                cursor++;
            }
        }
    }
}
