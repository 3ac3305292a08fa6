using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// The Qwen2-VL image processor exactly as VLM2Vec ran it (Hugging Face's "slow" PIL/numpy path, spec §3.3 and §4.3):
/// optional VLM2Vec pre-resizes, <c>smart_resize</c>, Pillow-bicubic resize on 8-bit RGB, rescale by 1/255, CLIP
/// mean/std normalisation, duplication to <c>temporal_patch_size</c> frames and patch flattening in the reference
/// order, giving <c>(grid_t·grid_h·grid_w, 1176)</c> float32 rows.
/// </summary>
/// <remarks>
/// The output equals the reference bit for bit when the resize does: rescale and normalise are computed per channel
/// and byte value once, in the reference's precision (float64 product rounded to float32, then float32 subtract and
/// divide), and looked up. Instances are immutable and thread-safe.
/// </remarks>
public sealed class Qwen2VlImageProcessor
{
    private readonly float[] _lookup;

    /// <summary>Creates a processor from a config and VLM2Vec options (defaults: <see cref="Qwen2VlImageProcessorOptions"/>'s).</summary>
    /// <exception cref="ModelFormatException">The config is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public Qwen2VlImageProcessor(ImageProcessorConfig config, Qwen2VlImageProcessorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        options ??= new Qwen2VlImageProcessorOptions();
        MinPixels = options.MinPixels ?? config.MinPixels;
        MaxPixels = options.MaxPixels ?? config.MaxPixels;
        if (MinPixels <= 0 || MaxPixels < MinPixels)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"The pixel budget {MinPixels:N0}–{MaxPixels:N0} is not valid: the minimum must be positive and not above the maximum.");
        }

        if (options.SquarePreResize is { } side && side <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"SquarePreResize must be positive (got {side}).");
        }

        Config = config;
        Options = options;
        _lookup = BuildLookup(config);
    }

    /// <summary>The config (from <c>preprocessor_config.json</c>).</summary>
    public ImageProcessorConfig Config { get; }

    /// <summary>The VLM2Vec options.</summary>
    public Qwen2VlImageProcessorOptions Options { get; }

    /// <summary>The effective minimum pixel count (option override, else the config's).</summary>
    public long MinPixels { get; }

    /// <summary>The effective maximum pixel count (option override, else the config's).</summary>
    public long MaxPixels { get; }

    /// <summary>Builds a processor from a model folder's <c>preprocessor_config.json</c>.</summary>
    /// <exception cref="ModelFormatException">The file is missing or invalid.</exception>
    public static Qwen2VlImageProcessor FromModelFolder(string folder, Qwen2VlImageProcessorOptions? options = null) =>
        new(ImageProcessorConfig.FromModelFolder(folder), options);

    /// <summary>
    /// The size an image of <paramref name="original"/> size is resized to before patching (after the square pre-resize
    /// and the tiny-image rule, when enabled). Needs no pixels, so prompts can be sized before decoding.
    /// </summary>
    /// <exception cref="InvalidInputException">The image cannot be processed (see <see cref="SmartResizeVariant"/>).</exception>
    public ImageSize GetResizedSize(ImageSize original)
    {
        var size = original;
        if (size.Width <= 0 || size.Height <= 0)
        {
            throw new InvalidInputException($"Image size {size} is not valid: both sides must be at least 1 pixel.");
        }

        if (Options.SquarePreResize is { } side)
        {
            size = new ImageSize(side, side);
        }

        if (Options.TinyImageRule && (size.Width < Qwen2VlImageProcessorOptions.TinySideThreshold || size.Height < Qwen2VlImageProcessorOptions.TinySideThreshold))
        {
            size = new ImageSize(Qwen2VlImageProcessorOptions.TinyImageSide, Qwen2VlImageProcessorOptions.TinyImageSide);
        }

        if (Config.DoResize)
        {
            return SmartResize.Compute(size.Height, size.Width, Config.Factor, MinPixels, MaxPixels, Options.SmartResizeVariant);
        }

        if (size.Width % Config.Factor != 0 || size.Height % Config.Factor != 0)
        {
            throw new InvalidInputException(
                $"With do_resize off, image sides must be multiples of {Config.Factor} (patch_size·merge_size); the image is {size}.");
        }

        return size;
    }

    /// <summary>Patch rows the image will produce: <c>grid_t·grid_h·grid_w</c>.</summary>
    public int GetPatchCount(ImageSize original)
    {
        var size = GetResizedSize(original);
        return (size.Height / Config.PatchSize) * (size.Width / Config.PatchSize);
    }

    /// <summary>Image tokens after the merger: patch rows / merge_size² (the number of <c>&lt;|image_pad|&gt;</c> tokens).</summary>
    public int GetTokenCount(ImageSize original) => GetPatchCount(original) / (Config.MergeSize * Config.MergeSize);

    /// <summary>Runs the processor on one decoded image.</summary>
    /// <exception cref="InvalidInputException">The image cannot be processed (see <see cref="SmartResizeVariant"/>).</exception>
    public ProcessedImage Process(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var target = GetResizedSize(image.Size);

        byte[]? owned = null;
        try
        {
            ReadOnlySpan<byte> pixels = image.Rgb;
            var size = image.Size;

            if (Options.SquarePreResize is { } side && size != new ImageSize(side, side))
            {
                // VLM2Vec V1: image.resize((side, side)); Pillow's default filter for RGB is bicubic.
                pixels = Resample(pixels, ref size, new ImageSize(side, side), PilResampleFilter.Bicubic, ref owned);
            }

            if (Options.TinyImageRule && (size.Width < Qwen2VlImageProcessorOptions.TinySideThreshold || size.Height < Qwen2VlImageProcessorOptions.TinySideThreshold))
            {
                // VLM2Vec: image.resize((56, 56)), Pillow's default (bicubic) filter.
                var tiny = new ImageSize(Qwen2VlImageProcessorOptions.TinyImageSide, Qwen2VlImageProcessorOptions.TinyImageSide);
                pixels = Resample(pixels, ref size, tiny, PilResampleFilter.Bicubic, ref owned);
            }

            if (size != target)
            {
                pixels = Resample(pixels, ref size, target, Config.Resample, ref owned);
            }

            return Patchify(pixels, size);
        }
        finally
        {
            if (owned is not null)
            {
                ArrayPool<byte>.Shared.Return(owned);
            }
        }
    }

    /// <summary>
    /// Rescale + normalise + temporal duplication + patch flattening, fused: every output value is written once, in
    /// the order of the reference's reshape <c>(t, tp, c, hb, hi, ph, wb, wi, pw)</c> → transpose
    /// <c>(t, hb, wb, hi, wi, c, tp, ph, pw)</c>.
    /// </summary>
    internal ProcessedImage Patchify(ReadOnlySpan<byte> rgb, ImageSize size)
    {
        var ps = Config.PatchSize;
        var merge = Config.MergeSize;
        var temporal = Config.TemporalPatchSize;
        var gridH = size.Height / ps;
        var gridW = size.Width / ps;
        var patchArea = ps * ps;
        var rowLength = Config.PatchRowLength;
        if (size.Width % Config.Factor != 0 || size.Height % Config.Factor != 0)
        {
            throw new ArgumentException($"Patch sides must be multiples of {Config.Factor}; the image is {size}.", nameof(size));
        }

        // Every element is written below, so the array need not be zeroed first.
        var output = GC.AllocateUninitializedArray<float>(checked(gridH * gridW * rowLength));
        var stride = size.Width * 3;
        ref var lookup0 = ref MemoryMarshal.GetArrayDataReference(_lookup);
        ref var out0 = ref MemoryMarshal.GetArrayDataReference(output);
        ref var rgb0 = ref MemoryMarshal.GetReference(rgb);
        if (rgb.Length < size.Height * stride)
        {
            throw new ArgumentException($"The pixel buffer holds {rgb.Length} bytes; a {size} image needs {size.Height * stride}.", nameof(rgb));
        }

        var row = 0;
        for (var hb = 0; hb < gridH / merge; hb++)
        {
            for (var wb = 0; wb < gridW / merge; wb++)
            {
                for (var hi = 0; hi < merge; hi++)
                {
                    for (var wi = 0; wi < merge; wi++)
                    {
                        var top = ((hb * merge) + hi) * ps;
                        var left = ((wb * merge) + wi) * ps;
                        ref var patchRow = ref Unsafe.Add(ref out0, row * rowLength);
                        for (var c = 0; c < 3; c++)
                        {
                            ref var lookup = ref Unsafe.Add(ref lookup0, c * 256);
                            ref var frame0 = ref Unsafe.Add(ref patchRow, c * temporal * patchArea);
                            for (var py = 0; py < ps; py++)
                            {
                                ref var src = ref Unsafe.Add(ref rgb0, ((top + py) * stride) + (left * 3) + c);
                                ref var dst = ref Unsafe.Add(ref frame0, py * ps);
                                for (var px = 0; px < ps; px++)
                                {
                                    Unsafe.Add(ref dst, px) = Unsafe.Add(ref lookup, Unsafe.Add(ref src, px * 3));
                                }
                            }

                            var first = MemoryMarshal.CreateReadOnlySpan(ref frame0, patchArea);
                            for (var t = 1; t < temporal; t++)
                            {
                                first.CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref frame0, t * patchArea), patchArea));
                            }
                        }

                        row++;
                    }
                }
            }
        }

        return new ProcessedImage(output, 1, gridH, gridW, rowLength);
    }

    /// <summary>Resizes into a newly rented buffer, returns the previous one (<paramref name="owned"/>) to the pool.</summary>
    private static ReadOnlySpan<byte> Resample(ReadOnlySpan<byte> src, scoped ref ImageSize size, ImageSize to, PilResampleFilter filter, scoped ref byte[]? owned)
    {
        var length = checked((int)(to.PixelCount * 3));
        var next = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            PilResampler.Resize(src, size.Width, size.Height, next.AsSpan(0, length), to.Width, to.Height, filter);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(next);
            throw;
        }

        if (owned is not null)
        {
            ArrayPool<byte>.Shared.Return(owned);
        }

        owned = next;
        size = to;
        return next.AsSpan(0, length);
    }

    /// <summary>
    /// The value of every (channel, byte) pair after rescale and normalise, in the reference's precision:
    /// <c>rescale</c> is <c>float32(float64(v)·factor)</c>; <c>normalize</c> is float32 <c>(x − mean)/std</c> with mean and
    /// std rounded to float32.
    /// </summary>
    private static float[] BuildLookup(ImageProcessorConfig config)
    {
        var lookup = new float[3 * 256];
        for (var c = 0; c < 3; c++)
        {
            var mean = (float)config.ImageMean[c];
            var std = (float)config.ImageStd[c];
            for (var v = 0; v < 256; v++)
            {
                var x = config.DoRescale ? (float)(v * config.RescaleFactor) : v;
                if (config.DoNormalize)
                {
                    var centred = (float)(x - mean);
                    x = (float)(centred / std);
                }

                lookup[(c * 256) + v] = x;
            }
        }

        return lookup;
    }
}
