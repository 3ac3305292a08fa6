using Microsoft.Extensions.Logging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Evaluation;

/// <summary>
/// Writes downscaled JPEG thumbnails of example images into the report folder: decoded by the project's
/// <see cref="ImageDecoder"/> (upright RGB, the pixels the model saw), resized and encoded by ImageSharp. Each source image
/// gets one thumbnail, named by its order of first use.
/// </summary>
internal sealed class ThumbnailWriter
{
    private readonly string _folder;
    private readonly int _size;
    private readonly int _quality;
    private readonly ILogger _logger;
    private readonly Dictionary<string, string?> _written = new(StringComparer.Ordinal);

    public ThumbnailWriter(string reportFolder, int size, int quality, ILogger logger)
    {
        _folder = Path.Combine(reportFolder, MmebReportWriter.ThumbnailFolder);
        _size = size;
        _quality = quality;
        _logger = logger;
    }

    /// <summary>The files written so far.</summary>
    public List<string> Files { get; } = [];

    /// <summary>The report-relative URL of the thumbnail of <paramref name="imagePath"/>, or null when it cannot be made.</summary>
    public string? Thumbnail(string imagePath)
    {
        if (_written.TryGetValue(imagePath, out var known))
        {
            return known;
        }

        string? relative = null;
        try
        {
            var decoded = ImageDecoder.Decode(ImageInput.FromFile(imagePath));
            using var image = Image.LoadPixelData<Rgb24>(decoded.Rgb, decoded.Width, decoded.Height);
            if (decoded.Width > _size || decoded.Height > _size)
            {
                image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(_size, _size), Mode = ResizeMode.Max, Sampler = KnownResamplers.Bicubic }));
            }

            Directory.CreateDirectory(_folder);
            var name = $"{_written.Count + 1:D4}.jpg";
            var path = Path.Combine(_folder, name);
            image.SaveAsJpeg(path, new JpegEncoder { Quality = _quality });
            Files.Add(path);
            relative = $"{MmebReportWriter.ThumbnailFolder}/{name}";
        }
        catch (Exception ex) when (ex is ImageDecodeException or IOException or UnauthorizedAccessException or ImageFormatException)
        {
            EvaluationLog.ThumbnailFailed(_logger, imagePath, ex.Message);
        }

        _written[imagePath] = relative;
        return relative;
    }
}
