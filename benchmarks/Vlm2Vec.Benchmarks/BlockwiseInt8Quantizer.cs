using System.Numerics.Tensors;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Symmetric 8-bit block quantization of a Linear weight <c>W (N = out, K = in)</c> in the layout of ONNX Runtime's
/// com.microsoft <c>MatMulNBits</c> with <c>bits = 8</c>: for each output row n and each block of
/// <see cref="BlockSize"/> consecutive input columns, <c>scale = max|w| / 127</c> and
/// <c>code = round(w / scale) + 128</c> stored as uint8, so that <c>w ≈ (code − 128) · scale</c> — the op's definition
/// with its default zero point 2^(bits−1) = 128 when no zero point is given. Codes are in 1…255, every weight is within
/// <c>scale / 2</c> of its dequantized value, and a block of zeros gets scale 0 (codes 128). A last partial block is
/// padded with code 128 (zero). Written by hand: no .NET package produces MatMulNBits' layout, and the arithmetic is a
/// dozen lines.
/// </summary>
internal sealed class BlockwiseInt8Quantizer
{
    /// <summary>The zero point ORT's MatMulNBits assumes for 8-bit codes when none is given (2^(bits−1)).</summary>
    public const int ZeroPoint = 128;

    /// <summary>Creates a quantizer for blocks of <paramref name="blockSize"/> input columns (a power of two ≥ 16, as the op needs).</summary>
    public BlockwiseInt8Quantizer(int blockSize)
    {
        if (blockSize < 16 || (blockSize & (blockSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "MatMulNBits needs a block size that is a power of two and at least 16.");
        }

        BlockSize = blockSize;
    }

    /// <summary>Input columns per block (the op's <c>block_size</c>).</summary>
    public int BlockSize { get; }

    /// <summary>Blocks per output row: <c>ceil(K / block_size)</c>.</summary>
    public int BlocksPerRow(int k) => (k + BlockSize - 1) / BlockSize;

    /// <summary>The per-block scales (N · k_blocks, row-major) of <paramref name="weights"/> (N · K, row-major).</summary>
    public float[] Scales(ReadOnlySpan<float> weights, int n, int k)
    {
        CheckShape(weights, n, k);
        var blocks = BlocksPerRow(k);
        var scales = new float[n * blocks];
        for (var row = 0; row < n; row++)
        {
            var values = weights.Slice(row * k, k);
            for (var b = 0; b < blocks; b++)
            {
                var start = b * BlockSize;
                var block = values.Slice(start, Math.Min(BlockSize, k - start));
                scales[(row * blocks) + b] = TensorPrimitives.MaxMagnitude(block) is var max && max != 0 ? Math.Abs(max) / 127f : 0f;
            }
        }

        return scales;
    }

    /// <summary>The codes (N · k_blocks · block_size bytes: the op's B of shape (N, k_blocks, block_size)).</summary>
    public byte[] Codes(ReadOnlySpan<float> weights, int n, int k) => Quantize(weights, n, k).Codes;

    /// <summary>Codes and scales together.</summary>
    public (byte[] Codes, float[] Scales) Quantize(ReadOnlySpan<float> weights, int n, int k)
    {
        var scales = Scales(weights, n, k);
        var blocks = BlocksPerRow(k);
        var codes = new byte[n * blocks * BlockSize];
        codes.AsSpan().Fill(ZeroPoint);
        for (var row = 0; row < n; row++)
        {
            for (var b = 0; b < blocks; b++)
            {
                var scale = scales[(row * blocks) + b];
                if (scale == 0)
                {
                    continue;
                }

                var start = b * BlockSize;
                var length = Math.Min(BlockSize, k - start);
                var source = weights.Slice((row * k) + start, length);
                var target = codes.AsSpan(((row * blocks) + b) * BlockSize, length);
                var inverse = 1f / scale;
                for (var i = 0; i < length; i++)
                {
                    // |w · (1/scale)| ≤ 127 up to rounding; the clamp keeps a last-ulp overshoot in range.
                    var q = (int)MathF.Round(source[i] * inverse, MidpointRounding.ToEven);
                    target[i] = (byte)(Math.Clamp(q, -127, 127) + ZeroPoint);
                }
            }
        }

        return (codes, scales);
    }

    /// <summary>The op's dequantization <c>(code − 128) · scale</c> back to (N · K) float32 (tests, diagnostics).</summary>
    public float[] Dequantize(ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, int n, int k)
    {
        var blocks = BlocksPerRow(k);
        if (codes.Length != n * blocks * BlockSize || scales.Length != n * blocks)
        {
            throw new ArgumentException($"Codes ({codes.Length}) and scales ({scales.Length}) do not fit a {n} × {k} weight in blocks of {BlockSize}.");
        }

        var result = new float[n * k];
        for (var row = 0; row < n; row++)
        {
            for (var col = 0; col < k; col++)
            {
                var b = col / BlockSize;
                result[(row * k) + col] = (codes[(((row * blocks) + b) * BlockSize) + (col % BlockSize)] - ZeroPoint) * scales[(row * blocks) + b];
            }
        }

        return result;
    }

    private static void CheckShape(ReadOnlySpan<float> weights, int n, int k)
    {
        if (n <= 0 || k <= 0 || (long)n * k != weights.Length)
        {
            throw new ArgumentException($"{weights.Length} weights do not form a {n} × {k} matrix.", nameof(weights));
        }
    }
}
