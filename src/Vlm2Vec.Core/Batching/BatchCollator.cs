namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Pads prepared inputs into one <see cref="CollatedBatch"/>: input ids, attention mask, image-token mask, rotary
/// position ids <c>(3, B, L)</c> per Hugging Face <c>get_rope_index</c>, all image patches and grids in row order, and
/// each row's pooled column. Text-only and image rows mix freely, as do rows with several images. Thread-safe.
/// </summary>
/// <remarks>
/// <para>Position ids: when the batch has no image, every row gets <c>cumsum(mask) - 1</c> (= <c>0..n-1</c> over its
/// real tokens). When it has images, each row is walked as <c>get_rope_index</c> does: a row with no
/// <c>&lt;|vision_start|&gt;</c> directly followed by an image placeholder (every VLM2Vec prompt) still gets
/// <c>0..n-1</c> on all three streams; a row with vision markers gets M-RoPE positions (spec §3.8), taking grids in
/// batch order. Pad positions hold 1.</para>
/// <para>Image-token mask: 1 on every image-placeholder token of a row that has images (their count must equal the
/// row's <c>Σ t·h·w / merge²</c>); stray placeholders of image-less rows stay 0, ordinary tokens.</para>
/// <para>Pooled column: <c>L-1</c> with left padding (VLM2Vec's choice; the last column is every row's last real
/// token), each row's last real token with right padding.</para>
/// </remarks>
public sealed class BatchCollator
{
    /// <summary>Creates a collator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The merge size is not positive or the padding side is unknown.</exception>
    public BatchCollator(BatchCollatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SpatialMergeSize, 1, nameof(options));
        if (!Enum.IsDefined(options.Padding))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Padding side {options.Padding} is not Left or Right.");
        }

        Options = options;
    }

    /// <summary>The ids and geometry used.</summary>
    public BatchCollatorOptions Options { get; }

    /// <summary>Collates the inputs, in order, into one padded batch.</summary>
    /// <exception cref="ArgumentException">The list is empty.</exception>
    /// <exception cref="BatchItemException">A row is empty, null, or its image tokens do not match its images; <see cref="BatchItemException.ItemIndex"/> names it.</exception>
    public CollatedBatch Collate(IReadOnlyList<PreparedInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            throw new ArgumentException("Cannot collate an empty batch: at least one input is required.", nameof(inputs));
        }

        var batch = inputs.Count;
        var length = 0;
        int imageCount = 0, totalPatches = 0, patchRowLength = 0;
        for (var row = 0; row < batch; row++)
        {
            var input = inputs[row] ?? throw new BatchItemException(row, new InvalidInputException($"Row {row} is null."));
            if (input.Length == 0)
            {
                throw new BatchItemException(row, new InvalidInputException($"Row {row} has no tokens; every row needs at least one."));
            }

            length = Math.Max(length, input.Length);
            foreach (var image in input.Images)
            {
                if (image is null)
                {
                    throw new BatchItemException(row, new InvalidInputException($"Row {row} has a null image."));
                }

                if (patchRowLength == 0)
                {
                    patchRowLength = image.PatchRowLength;
                }
                else if (image.PatchRowLength != patchRowLength)
                {
                    throw new BatchItemException(row, new InvalidInputException(
                        $"Row {row} has an image with {image.PatchRowLength} values per patch row; the batch's earlier images have {patchRowLength}."));
                }

                imageCount++;
                totalPatches = checked(totalPatches + image.PatchCount);
            }
        }

        var cells = checked(batch * length);
        // Arrays filled completely below skip the zeroing (pixel batches reach hundreds of MiB).
        var inputIds = GC.AllocateUninitializedArray<long>(cells);
        var attentionMask = new long[cells];
        var imageTokenMask = new long[cells];
        var positionIds = GC.AllocateUninitializedArray<long>(checked(3 * cells));
        var pixelValues = GC.AllocateUninitializedArray<float>(checked(totalPatches * patchRowLength));
        var grids = new long[imageCount * 3];
        var imagesPerRow = new int[batch];
        var pooledIndex = new int[batch];

        Array.Fill(inputIds, Options.PadTokenId);
        Array.Fill(positionIds, 1L);

        var imageCursor = 0;
        var pixelCursor = 0;
        for (var row = 0; row < batch; row++)
        {
            var input = inputs[row];
            var n = input.Length;
            var offset = Options.Padding == PaddingSide.Left ? length - n : 0;
            var rowStart = row * length + offset;
            var ids = inputIds.AsSpan(rowStart, n);
            for (var j = 0; j < n; j++)
            {
                ids[j] = input.InputIds[j];
            }

            attentionMask.AsSpan(rowStart, n).Fill(1);
            pooledIndex[row] = Options.Padding == PaddingSide.Left ? length - 1 : n - 1;
            imagesPerRow[row] = input.Images.Count;

            if (input.Images.Count > 0)
            {
                MarkImageTokens(input, row, imageTokenMask.AsSpan(rowStart, n));
                foreach (var image in input.Images)
                {
                    image.PixelValues.CopyTo(pixelValues.AsSpan(pixelCursor));
                    pixelCursor += image.PixelValues.Length;
                    grids[imageCursor * 3] = image.GridT;
                    grids[imageCursor * 3 + 1] = image.GridH;
                    grids[imageCursor * 3 + 2] = image.GridW;
                    imageCursor++;
                }
            }
        }

        FillPositions(inputs, length, imageCount > 0, grids, positionIds);

        return new CollatedBatch
        {
            BatchSize = batch,
            SequenceLength = length,
            InputIds = inputIds,
            AttentionMask = attentionMask,
            PositionIds = positionIds,
            ImageTokenMask = imageTokenMask,
            PixelValues = pixelValues,
            ImageGridThw = grids,
            ImagesPerRow = imagesPerRow,
            PooledIndex = pooledIndex,
            Padding = Options.Padding,
            PatchRowLength = patchRowLength,
        };
    }

    private void MarkImageTokens(PreparedInput input, int row, Span<long> mask)
    {
        var merge = Options.SpatialMergeSize;
        var expected = 0;
        foreach (var image in input.Images)
        {
            if (image.GridH % merge != 0 || image.GridW % merge != 0)
            {
                throw new BatchItemException(row, new InvalidInputException(
                    $"Row {row} has an image grid ({image.GridT}, {image.GridH}, {image.GridW}) whose height and width are not multiples of the merge size {merge}."));
            }

            expected += image.TokenCount(merge);
        }

        var ids = input.InputIds;
        var found = 0;
        for (var j = 0; j < ids.Length; j++)
        {
            if (ids[j] == Options.ImageTokenId)
            {
                mask[j] = 1;
                found++;
            }
        }

        if (found != expected)
        {
            throw new BatchItemException(row, new InvalidInputException(
                $"Row {row} has {found} image-placeholder tokens but its {input.Images.Count} image(s) need {expected} (t·h·w/{merge * merge} each): " +
                "every placeholder must be expanded to its image's token count, and no other placeholder may remain."));
        }
    }

    private void FillPositions(IReadOnlyList<PreparedInput> inputs, int length, bool batchHasImages, long[] grids, long[] positionIds)
    {
        var batch = inputs.Count;
        var stream = batch * length;
        var imageIndex = 0;
        for (var row = 0; row < batch; row++)
        {
            var input = inputs[row];
            var n = input.Length;
            var start = row * length + (Options.Padding == PaddingSide.Left ? length - n : 0);
            var t = positionIds.AsSpan(start, n);
            var h = positionIds.AsSpan(stream + start, n);
            var w = positionIds.AsSpan(2 * stream + start, n);
            if (batchHasImages)
            {
                RopeIndex.MultimodalRow(input.InputIds, grids, ref imageIndex, Options, row, t, h, w);
            }
            else
            {
                RopeIndex.Sequential(t, h, w);
            }
        }
    }
}
