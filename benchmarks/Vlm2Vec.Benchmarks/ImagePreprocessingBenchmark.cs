using System.Diagnostics;
using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Benchmarks;

/// <summary>
/// Image preprocessing on one core: JPEG decode, Pillow-bicubic resize, normalise + patchify, and the whole path
/// (decode + <see cref="Qwen2VlImageProcessor.Process"/>), in images per second, with the VLM2Vec-V2.0 settings.
/// </summary>
/// <remarks>
/// Inputs are made in-process from a Caltech-101 photo (CC BY 4.0, shared/data) resized with the Pillow-compatible
/// resampler and encoded as JPEG (quality 90, 4:2:0): 448×448 (a multiple of 28: no resize), 640×480 (resized to
/// 644×476) and 1344×1344 (resized to 980×980). Arguments: <c>--seconds N</c> per measurement (default 3).
/// </remarks>
internal sealed class ImagePreprocessingBenchmark : IBenchmark
{
    private const string SourceImage = "classification/caltech101-test10/images/airplanes/image_0003.jpg";

    public string Name => "image-preprocessing";

    public string Description => "JPEG decode + Qwen2-VL image processor on one core (448², 640×480, 1344²), split by stage";

    public Task RunAsync(BenchmarkContext context, string[] args)
    {
        var seconds = 3.0;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--seconds")
            {
                seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
        }

        PinToOneCore();
        var sourcePath = context.DataPath(SourceImage.Split('/'));
        var source = ImageDecoder.Decode(ImageInput.FromFile(sourcePath));
        BenchmarkContext.Report($"source: {SourceImage} ({source.Width}×{source.Height}), ImageSharp JPEG q90 re-encodes; {seconds:0.#} s per measurement");
        var processor = new Qwen2VlImageProcessor(ImageProcessorConfig.Default, Qwen2VlImageProcessorOptions.Vlm2VecV2);

        BenchmarkContext.Report($"{"input",-10} {"stage",-22} {"images/s",10} {"median",8} {"p90",8} {"mean rate",10}  detail (images/s from the median call time; times in ms)");
        foreach (var (width, height) in new[] { (448, 448), (640, 480), (1344, 1344) })
        {
            var jpeg = MakeJpeg(source, width, height);
            var decoded = ImageDecoder.Decode(jpeg);
            var target = processor.GetResizedSize(decoded.Size);
            var resized = new byte[target.Width * target.Height * 3];
            PilResampler.Resize(decoded.Rgb, decoded.Width, decoded.Height, resized, target.Width, target.Height);
            var label = $"{width}×{height}";

            Line(label, "decode", Measure(() => ImageDecoder.Decode(jpeg), seconds), $"{jpeg.Length / 1024.0:F0} KiB JPEG");
            Line(
                label,
                "resize (Pillow bicubic)",
                Measure(() => PilResampler.Resize(decoded.Rgb, decoded.Width, decoded.Height, resized, target.Width, target.Height), seconds),
                target == decoded.Size ? $"{target} (no resize needed; the processor skips it)" : $"→ {target}");
            Line(
                label,
                "normalise + patchify",
                Measure(() => processor.Patchify(resized, target), seconds),
                $"{processor.GetPatchCount(decoded.Size)} patch rows × 1176");
            Line(label, "process (all three)", Measure(() => processor.Process(decoded), seconds), "Process(DecodedImage)");
            Line(label, "decode + process", Measure(() => processor.Process(ImageDecoder.Decode(jpeg)), seconds), $"{processor.GetTokenCount(decoded.Size)} image tokens");
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Warms up (so tiered JIT has produced optimised code), then times single calls for <paramref name="seconds"/>
    /// and returns the median and 90th-percentile call times in milliseconds. The median keeps the figure stable on
    /// a machine shared with other work; the mean rate is printed beside it.
    /// </summary>
    private static (double Median, double P90, double MeanRate) Measure(Action action, double seconds)
    {
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed.TotalSeconds < Math.Min(1.0, seconds / 2))
        {
            action();
        }

        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || total.Elapsed.TotalSeconds < seconds)
        {
            var call = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(call).TotalMilliseconds);
        }

        var meanRate = times.Count / total.Elapsed.TotalSeconds;
        times.Sort();
        return (times[times.Count / 2], times[(int)(times.Count * 0.9)], meanRate);
    }

    private static void Line(string input, string stage, (double Median, double P90, double MeanRate) t, string detail) =>
        BenchmarkContext.Report($"{input,-10} {stage,-22} {1000 / t.Median,10:F1} {t.Median,8:F2} {t.P90,8:F2} {t.MeanRate,10:F1}  {detail}");

    private static byte[] MakeJpeg(DecodedImage source, int width, int height)
    {
        var rgb = new byte[width * height * 3];
        PilResampler.Resize(source.Rgb, source.Width, source.Height, rgb, width, height);
        using var image = Image.LoadPixelData<Rgb24>(rgb, width, height);
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream, new JpegEncoder { Quality = 90 });
        return stream.ToArray();
    }

    private static void PinToOneCore()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsWindows())
        {
            BenchmarkContext.Report("not pinned (processor affinity needs Linux or Windows); measurements run on the calling thread");
            return;
        }

        try
        {
            Process.GetCurrentProcess().ProcessorAffinity = 1;
            BenchmarkContext.Report("pinned to one core (processor affinity 0x1)");
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            BenchmarkContext.Report($"could not pin to one core ({ex.Message}); measurements run on the calling thread");
        }
    }
}
