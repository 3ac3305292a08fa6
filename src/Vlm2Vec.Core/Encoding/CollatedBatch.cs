namespace Vlm2Vec.Preprocessing;

/// <summary>
/// A padded batch in the reference model's terms. Arrays are row-major and flat so that both ONNX Runtime and TorchSharp
/// wrap them without copies:
/// <list type="bullet">
/// <item><c>InputIds</c>, <c>AttentionMask</c>, <c>ImageTokenMask</c>: <c>(B, L)</c>;</item>
/// <item><c>PositionIds</c>: <c>(3, B, L)</c> (t, h, w streams; identical for 1-D rows);</item>
/// <item><c>PixelValues</c>: <c>(P, PatchRowLength)</c>, the patches of every image of every row, in row order;</item>
/// <item><c>ImageGridThw</c>: <c>(N, 3)</c>, one grid per image in the same order.</item>
/// </list>
/// </summary>
public sealed class CollatedBatch
{
    /// <summary>Rows.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Padded sequence length.</summary>
    public required int SequenceLength { get; init; }

    /// <summary>Token ids <c>(B, L)</c>, padded with the pad id.</summary>
    public required long[] InputIds { get; init; }

    /// <summary>1 on real tokens, 0 on padding <c>(B, L)</c>.</summary>
    public required long[] AttentionMask { get; init; }

    /// <summary>Rotary position ids <c>(3, B, L)</c> following Hugging Face <c>get_rope_index</c>.</summary>
    public required long[] PositionIds { get; init; }

    /// <summary>
    /// 1 where an image feature replaces the token embedding <c>(B, L)</c>. It equals <c>InputIds == image_token_id</c>
    /// except for stray placeholders of image-less rows (VLM2Vec's WebQA/EDIS quirk), which stay ordinary tokens.
    /// </summary>
    public required long[] ImageTokenMask { get; init; }

    /// <summary>All image patches, <c>(TotalPatches, PatchRowLength)</c>.</summary>
    public required float[] PixelValues { get; init; }

    /// <summary>Image grids <c>(N, 3)</c> as (t, h, w).</summary>
    public required long[] ImageGridThw { get; init; }

    /// <summary>Number of images of each row.</summary>
    public required int[] ImagesPerRow { get; init; }

    /// <summary>The column of each row's pooled (last real) token.</summary>
    public required int[] PooledIndex { get; init; }

    /// <summary>Padding side used.</summary>
    public required PaddingSide Padding { get; init; }

    /// <summary>Values per patch row (1176 for Qwen2-VL).</summary>
    public required int PatchRowLength { get; init; }

    /// <summary>Images in the batch.</summary>
    public int ImageCount => ImageGridThw.Length / 3;

    /// <summary>Patch rows in the batch.</summary>
    public int TotalPatches => PatchRowLength == 0 ? 0 : PixelValues.Length / PatchRowLength;

    /// <summary>Real (non-pad) tokens in the batch.</summary>
    public long RealTokenCount
    {
        get
        {
            long n = 0;
            foreach (var m in AttentionMask)
            {
                n += m;
            }

            return n;
        }
    }

    /// <summary>
    /// Checks that the token arrays agree with the batch shape (<c>B×L</c> ids, masks, <c>3×B×L</c> positions) and that
    /// the grid array holds whole <c>(t, h, w)</c> triples. Engines call it before running a batch they did not collate
    /// themselves; the model-specific checks (patch rows, merge size, image tokens) stay with the engine.
    /// </summary>
    /// <exception cref="InvalidInputException">An array has the wrong length.</exception>
    public void EnsureConsistentShapes()
    {
        var cells = (long)BatchSize * SequenceLength;
        Require(BatchSize > 0 && SequenceLength > 0, $"batch size ({BatchSize}) and sequence length ({SequenceLength}) must be positive.");
        Require(InputIds.Length == cells, $"InputIds has {InputIds.Length} values, expected {BatchSize}×{SequenceLength}.");
        Require(AttentionMask.Length == cells, $"AttentionMask has {AttentionMask.Length} values, expected {cells}.");
        Require(ImageTokenMask.Length == cells, $"ImageTokenMask has {ImageTokenMask.Length} values, expected {cells}.");
        Require(PositionIds.Length == 3 * cells, $"PositionIds has {PositionIds.Length} values, expected 3×{cells}.");
        Require(ImageGridThw.Length % 3 == 0, $"ImageGridThw has {ImageGridThw.Length} values, not a multiple of 3.");

        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new InvalidInputException("Collated batch: " + message);
            }
        }
    }
}
