using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Pillow's convolution resampler (<c>Image.resize</c> on 8-bit RGB, <c>libImaging/Resample.c</c>) re-implemented so
/// that its output equals Pillow's byte for byte. Written by hand because no .NET imaging package reproduces it:
/// ImageSharp's bicubic is a different kernel (Catmull-Rom/Mitchell variants, float accumulation) and would shift every
/// pixel the model sees by a little.
/// </summary>
/// <remarks>
/// The algorithm, as Pillow runs it:
/// <list type="number">
/// <item>per output coordinate, the filter is centred at <c>(i + 0.5)·scale</c>; when down-sampling its support is
/// widened by the scale (<c>filterscale = max(scale, 1)</c>); the taps are evaluated in double precision, divided by
/// their sum, then converted to fixed point with 22 fractional bits (round half away from zero);</item>
/// <item>a horizontal pass first (only over the source rows the vertical pass will read), each sum started at ½ and
/// rounded by an arithmetic shift, clamped to [0, 255] into an 8-bit intermediate image;</item>
/// <item>then a vertical pass over the intermediate, rounded and clamped the same way;</item>
/// <item>an axis whose size does not change is not resampled at all.</item>
/// </list>
/// Integer sums are exact and their order does not matter, so both passes are vectorised without changing a single
/// output byte: the vertical pass across each row, the horizontal pass across strips of 8 rows (transposed so that the
/// 8 rows' samples at one position are adjacent). Coefficients are computed once per resize; buffers are pooled.
/// </remarks>
internal static class PilResampler
{
    private const int Channels = 3;
    private const int PrecisionBits = 32 - 8 - 2;
    private const int Half = 1 << (PrecisionBits - 1);
    private const int StripRows = 8;

    /// <summary>Resizes packed RGB24 pixels from <paramref name="srcWidth"/>×<paramref name="srcHeight"/> to the destination size.</summary>
    public static void Resize(
        ReadOnlySpan<byte> src,
        int srcWidth,
        int srcHeight,
        Span<byte> dst,
        int dstWidth,
        int dstHeight,
        PilResampleFilter filter = PilResampleFilter.Bicubic)
    {
        if (srcWidth <= 0 || srcHeight <= 0 || dstWidth <= 0 || dstHeight <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(srcWidth), $"Sizes must be positive: {srcWidth}×{srcHeight} → {dstWidth}×{dstHeight}.");
        }

        if (src.Length < (long)srcWidth * srcHeight * Channels || dst.Length < (long)dstWidth * dstHeight * Channels)
        {
            throw new ArgumentException("Source or destination buffer is smaller than its image.");
        }

        var needHorizontal = dstWidth != srcWidth;
        var needVertical = dstHeight != srcHeight;
        if (!needHorizontal && !needVertical)
        {
            src[..(srcWidth * srcHeight * Channels)].CopyTo(dst);
            return;
        }

        using var vertical = Coefficients.Compute(srcHeight, dstHeight, filter);
        var firstRow = vertical.Bounds[0];
        var lastRow = vertical.Bounds[(dstHeight * 2) - 2] + vertical.Bounds[(dstHeight * 2) - 1];

        if (!needHorizontal)
        {
            ResampleVertical(src, srcWidth * Channels, dst, dstHeight, vertical, rowShift: 0);
            return;
        }

        using var horizontal = Coefficients.Compute(srcWidth, dstWidth, filter);
        if (!needVertical)
        {
            ResampleHorizontal(src, srcWidth, dst, dstWidth, 0, srcHeight, horizontal);
            return;
        }

        var tempRows = lastRow - firstRow;
        var tempLength = dstWidth * Channels * tempRows;
        var temp = ArrayPool<byte>.Shared.Rent(tempLength);
        try
        {
            ResampleHorizontal(src, srcWidth, temp.AsSpan(0, tempLength), dstWidth, firstRow, tempRows, horizontal);
            ResampleVertical(temp.AsSpan(0, tempLength), dstWidth * Channels, dst, dstHeight, vertical, rowShift: firstRow);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(temp);
        }
    }

    private static void ResampleHorizontal(
        ReadOnlySpan<byte> src,
        int srcWidth,
        Span<byte> dst,
        int dstWidth,
        int firstRow,
        int rows,
        in Coefficients c)
    {
        var done = 0;
        if (Vector256.IsHardwareAccelerated && rows >= StripRows)
        {
            done = ResampleHorizontalStrips(src, srcWidth, dst, dstWidth, firstRow, rows, c);
        }

        ResampleHorizontalScalar(src, srcWidth, dst, dstWidth, firstRow + done, rows - done, done, c);
    }

    /// <summary>
    /// The horizontal pass on strips of 8 rows at once: the strip is transposed so that the 8 rows' samples at one
    /// position are adjacent, then every tap is one 8-lane integer multiply-add (the same integer arithmetic as the
    /// scalar pass, so the same bytes). Returns the number of rows done (a multiple of 8).
    /// </summary>
    private static int ResampleHorizontalStrips(
        ReadOnlySpan<byte> src,
        int srcWidth,
        Span<byte> dst,
        int dstWidth,
        int firstRow,
        int rows,
        in Coefficients c)
    {
        var srcStride = srcWidth * Channels;
        var dstStride = dstWidth * Channels;
        var strips = rows / StripRows;
        var kSize = c.KSize;
        var inLength = srcStride * StripRows;
        var outLength = dstStride * StripRows;
        var transposedIn = ArrayPool<int>.Shared.Rent(inLength);
        var transposedOut = ArrayPool<byte>.Shared.Rent(outLength);
        try
        {
            ref var tin = ref MemoryMarshal.GetArrayDataReference(transposedIn);
            ref var tout = ref MemoryMarshal.GetArrayDataReference(transposedOut);
            ref var weights0 = ref MemoryMarshal.GetArrayDataReference(c.Weights);
            ref var bounds0 = ref MemoryMarshal.GetArrayDataReference(c.Bounds);
            var half = Vector256.Create(Half);
            var zero = Vector256<int>.Zero;
            var max = Vector256.Create(255);
            for (var strip = 0; strip < strips; strip++)
            {
                var y0 = strip * StripRows;

                // tin[i·8 + r] = row r, sample i.
                for (var r = 0; r < StripRows; r++)
                {
                    ref var row = ref Unsafe.AsRef(in src[(firstRow + y0 + r) * srcStride]);
                    for (var i = 0; i < srcStride; i++)
                    {
                        Unsafe.Add(ref tin, (i * StripRows) + r) = Unsafe.Add(ref row, i);
                    }
                }

                for (var xx = 0; xx < dstWidth; xx++)
                {
                    var xmin = Unsafe.Add(ref bounds0, xx * 2);
                    var count = Unsafe.Add(ref bounds0, (xx * 2) + 1);
                    ref var k = ref Unsafe.Add(ref weights0, xx * kSize);
                    ref var p = ref Unsafe.Add(ref tin, xmin * Channels * StripRows);
                    Vector256<int> s0 = half, s1 = half, s2 = half;
                    for (var x = 0; x < count; x++)
                    {
                        var w = Unsafe.Add(ref k, x);
                        s0 += Vector256.LoadUnsafe(ref p) * w;
                        s1 += Vector256.LoadUnsafe(ref p, (nuint)StripRows) * w;
                        s2 += Vector256.LoadUnsafe(ref p, (nuint)(2 * StripRows)) * w;
                        p = ref Unsafe.Add(ref p, Channels * StripRows);
                    }

                    ref var o = ref Unsafe.Add(ref tout, xx * Channels * StripRows);
                    StoreClipped8(s0, zero, max, ref o);
                    StoreClipped8(s1, zero, max, ref Unsafe.Add(ref o, StripRows));
                    StoreClipped8(s2, zero, max, ref Unsafe.Add(ref o, 2 * StripRows));
                }

                // Back to rows.
                for (var r = 0; r < StripRows; r++)
                {
                    ref var row = ref dst[(y0 + r) * dstStride];
                    for (var i = 0; i < dstStride; i++)
                    {
                        Unsafe.Add(ref row, i) = Unsafe.Add(ref tout, (i * StripRows) + r);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(transposedIn);
            ArrayPool<byte>.Shared.Return(transposedOut);
        }

        return strips * StripRows;
    }

    /// <summary>Writes <c>clamp(sum &gt;&gt; 22, 0, 255)</c> of 8 lanes as 8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreClipped8(Vector256<int> sums, Vector256<int> zero, Vector256<int> max, ref byte destination)
    {
        var v = Vector256.Min(Vector256.Max(Vector256.ShiftRightArithmetic(sums, PrecisionBits), zero), max);
        var shorts = Vector256.Narrow(v, v);
        var bytes = Vector256.Narrow(shorts, shorts);
        Unsafe.WriteUnaligned(ref destination, bytes.AsUInt64().GetElement(0));
    }

    private static void ResampleHorizontalScalar(
        ReadOnlySpan<byte> src,
        int srcWidth,
        Span<byte> dst,
        int dstWidth,
        int firstRow,
        int rows,
        int firstDstRow,
        in Coefficients c)
    {
        var srcStride = srcWidth * Channels;
        var dstStride = dstWidth * Channels;
        ref var weights0 = ref MemoryMarshal.GetArrayDataReference(c.Weights);
        ref var bounds0 = ref MemoryMarshal.GetArrayDataReference(c.Bounds);
        for (var y = 0; y < rows; y++)
        {
            ref var srcRow = ref Unsafe.AsRef(in src[(firstRow + y) * srcStride]);
            ref var dstRow = ref dst[(firstDstRow + y) * dstStride];
            for (var xx = 0; xx < dstWidth; xx++)
            {
                var xmin = Unsafe.Add(ref bounds0, xx * 2);
                var count = Unsafe.Add(ref bounds0, (xx * 2) + 1);
                ref var k = ref Unsafe.Add(ref weights0, xx * c.KSize);
                ref var p = ref Unsafe.Add(ref srcRow, xmin * Channels);
                int s0 = Half, s1 = Half, s2 = Half;
                for (var x = 0; x < count; x++)
                {
                    var w = Unsafe.Add(ref k, x);
                    s0 += Unsafe.Add(ref p, 0) * w;
                    s1 += Unsafe.Add(ref p, 1) * w;
                    s2 += Unsafe.Add(ref p, 2) * w;
                    p = ref Unsafe.Add(ref p, Channels);
                }

                ref var o = ref Unsafe.Add(ref dstRow, xx * Channels);
                o = Clip8(s0);
                Unsafe.Add(ref o, 1) = Clip8(s1);
                Unsafe.Add(ref o, 2) = Clip8(s2);
            }
        }
    }

    private static void ResampleVertical(
        ReadOnlySpan<byte> src,
        int rowLength,
        Span<byte> dst,
        int dstHeight,
        in Coefficients c,
        int rowShift)
    {
        var acc = ArrayPool<int>.Shared.Rent(rowLength);
        try
        {
            var accSpan = acc.AsSpan(0, rowLength);
            for (var yy = 0; yy < dstHeight; yy++)
            {
                var ymin = c.Bounds[yy * 2] - rowShift;
                var count = c.Bounds[(yy * 2) + 1];
                var k = c.Weights.AsSpan(yy * c.KSize, count);
                accSpan.Fill(Half);
                for (var y = 0; y < count; y++)
                {
                    AccumulateRow(src.Slice((ymin + y) * rowLength, rowLength), k[y], accSpan);
                }

                StoreRow(accSpan, dst.Slice(yy * rowLength, rowLength));
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(acc);
        }
    }

    /// <summary><c>acc[i] += row[i]·weight</c>, vectorised (integer sums are exact, so the order does not matter).</summary>
    private static void AccumulateRow(ReadOnlySpan<byte> row, int weight, Span<int> acc)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && row.Length >= Vector<byte>.Count)
        {
            var w = new Vector<int>(weight);
            var accInts = MemoryMarshal.Cast<int, Vector<int>>(acc);
            var step = Vector<byte>.Count;
            var ints = Vector<int>.Count;
            for (; i <= row.Length - step; i += step)
            {
                var bytes = new Vector<byte>(row.Slice(i, step));
                Vector.Widen(bytes, out var lo16, out var hi16);
                Vector.Widen(lo16, out var a, out var b);
                Vector.Widen(hi16, out var d, out var e);
                var baseIndex = i / ints;
                accInts[baseIndex] += Vector.AsVectorInt32(a) * w;
                accInts[baseIndex + 1] += Vector.AsVectorInt32(b) * w;
                accInts[baseIndex + 2] += Vector.AsVectorInt32(d) * w;
                accInts[baseIndex + 3] += Vector.AsVectorInt32(e) * w;
            }
        }

        for (; i < row.Length; i++)
        {
            acc[i] += row[i] * weight;
        }
    }

    private static void StoreRow(ReadOnlySpan<int> acc, Span<byte> dst)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && acc.Length >= Vector<int>.Count * 4)
        {
            var ints = Vector<int>.Count;
            var zero = Vector<int>.Zero;
            var max = new Vector<int>(255);
            var accVectors = MemoryMarshal.Cast<int, Vector<int>>(acc);
            for (; i <= acc.Length - (4 * ints); i += 4 * ints)
            {
                var b = i / ints;
                var a0 = Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(accVectors[b], PrecisionBits), zero), max);
                var a1 = Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(accVectors[b + 1], PrecisionBits), zero), max);
                var a2 = Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(accVectors[b + 2], PrecisionBits), zero), max);
                var a3 = Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(accVectors[b + 3], PrecisionBits), zero), max);
                var lo = Vector.Narrow(Vector.AsVectorUInt32(a0), Vector.AsVectorUInt32(a1));
                var hi = Vector.Narrow(Vector.AsVectorUInt32(a2), Vector.AsVectorUInt32(a3));
                Vector.Narrow(lo, hi).CopyTo(dst.Slice(i, 4 * ints));
            }
        }

        for (; i < acc.Length; i++)
        {
            dst[i] = Clip8(acc[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clip8(int sum)
    {
        var v = sum >> PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    private static double Evaluate(PilResampleFilter filter, double x) => filter switch
    {
        PilResampleFilter.Bicubic => BicubicFilter(x),
        PilResampleFilter.Bilinear => BilinearFilter(x),
        PilResampleFilter.Box => x > -0.5 && x <= 0.5 ? 1.0 : 0.0,
        PilResampleFilter.Hamming => HammingFilter(x),
        PilResampleFilter.Lanczos => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown resampling filter."),
    };

    private static double Support(PilResampleFilter filter) => filter switch
    {
        PilResampleFilter.Bicubic => 2.0,
        PilResampleFilter.Bilinear => 1.0,
        PilResampleFilter.Box => 0.5,
        PilResampleFilter.Hamming => 1.0,
        PilResampleFilter.Lanczos => 3.0,
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown resampling filter."),
    };

    private static double BicubicFilter(double x)
    {
        const double a = -0.5;
        if (x < 0.0)
        {
            x = -x;
        }

        if (x < 1.0)
        {
            return ((((a + 2.0) * x) - (a + 3.0)) * x * x) + 1;
        }

        if (x < 2.0)
        {
            return ((((((x - 5) * x) + 8) * x) - 4) * a);
        }

        return 0.0;
    }

    private static double BilinearFilter(double x)
    {
        if (x < 0.0)
        {
            x = -x;
        }

        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static double HammingFilter(double x)
    {
        if (x < 0.0)
        {
            x = -x;
        }

        if (x == 0.0)
        {
            return 1.0;
        }

        if (x >= 1.0)
        {
            return 0.0;
        }

        x *= Math.PI;

        // Pillow writes the window constants as C floats (0.54f, 0.46f) and promotes them to double.
        return Math.Sin(x) / x * ((double)0.54f + ((double)0.46f * Math.Cos(x)));
    }

    private static double Sinc(double x)
    {
        if (x == 0.0)
        {
            return 1.0;
        }

        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    /// <summary>Per output coordinate: the first source index and tap count, and the fixed-point taps.</summary>
    private readonly struct Coefficients : IDisposable
    {
        private Coefficients(int kSize, int[] bounds, int[] weights)
        {
            KSize = kSize;
            Bounds = bounds;
            Weights = weights;
        }

        public int KSize { get; }

        /// <summary>Pairs (first index, count) per output coordinate (rented; longer than needed).</summary>
        public int[] Bounds { get; }

        /// <summary><c>KSize</c> fixed-point taps per output coordinate (rented; longer than needed).</summary>
        public int[] Weights { get; }

        /// <summary>Pillow's <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c> for the box (0, inSize).</summary>
        public static Coefficients Compute(int inSize, int outSize, PilResampleFilter filter)
        {
            // Pillow keeps the box as C floats; (float)inSize - 0f is exact for any realistic size.
            var scale = (double)(float)inSize / outSize;
            var filterScale = scale < 1.0 ? 1.0 : scale;
            var support = Support(filter) * filterScale;
            var kSize = ((int)Math.Ceiling(support) * 2) + 1;

            var bounds = ArrayPool<int>.Shared.Rent(outSize * 2);
            var weights = ArrayPool<int>.Shared.Rent(outSize * kSize);
            var taps = ArrayPool<double>.Shared.Rent(kSize);
            try
            {
                var ss = 1.0 / filterScale;
                for (var xx = 0; xx < outSize; xx++)
                {
                    var center = (xx + 0.5) * scale;
                    var xmin = (int)(center - support + 0.5);
                    if (xmin < 0)
                    {
                        xmin = 0;
                    }

                    var xmax = (int)(center + support + 0.5);
                    if (xmax > inSize)
                    {
                        xmax = inSize;
                    }

                    xmax -= xmin;
                    var ww = 0.0;
                    for (var x = 0; x < xmax; x++)
                    {
                        var w = Evaluate(filter, (x + xmin - center + 0.5) * ss);
                        taps[x] = w;
                        ww += w;
                    }

                    var row = weights.AsSpan(xx * kSize, kSize);
                    row.Clear();
                    for (var x = 0; x < xmax; x++)
                    {
                        var k = ww != 0.0 ? taps[x] / ww : taps[x];
                        row[x] = k < 0
                            ? (int)(-0.5 + (k * (1 << PrecisionBits)))
                            : (int)(0.5 + (k * (1 << PrecisionBits)));
                    }

                    bounds[xx * 2] = xmin;
                    bounds[(xx * 2) + 1] = xmax;
                }
            }
            catch
            {
                ArrayPool<int>.Shared.Return(bounds);
                ArrayPool<int>.Shared.Return(weights);
                throw;
            }
            finally
            {
                ArrayPool<double>.Shared.Return(taps);
            }

            return new Coefficients(kSize, bounds, weights);
        }

        public void Dispose()
        {
            ArrayPool<int>.Shared.Return(Bounds);
            ArrayPool<int>.Shared.Return(Weights);
        }
    }
}
