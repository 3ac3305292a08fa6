using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace Vlm2Vec.Cli.Commands;

/// <summary>
/// The inputs <c>vlm2vec bench</c> embeds, built once before timing: text queries (MSCOCO_t2i wording, synthetic
/// captions of varying length) and image queries (MSCOCO_i2t wording) whose images are encoded JPEG bytes, so that
/// decoding is part of what is timed, as with uploaded files. Everything is deterministic: the same options give the
/// same inputs on every machine.
/// </summary>
internal sealed class BenchWorkload
{
    /// <summary>File name endings read from <c>--image-folder</c>.</summary>
    internal static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"];

    private static readonly string[] Subjects =
    [
        "a man", "two children", "a woman in a red coat", "a brown dog", "a group of cyclists", "an old train",
        "a cat", "three surfers", "a chef", "a yellow school bus", "a flock of birds", "a young girl with a kite",
    ];

    private static readonly string[] Actions =
    [
        "standing next to", "walking along", "sitting on", "riding past", "looking at", "waiting near",
        "playing beside", "crossing",
    ];

    private static readonly string[] Places =
    [
        "a busy street", "the beach at sunset", "a wooden bench in a park", "a kitchen counter", "a snowy mountain road",
        "a crowded market", "the river bank", "an empty parking lot", "a field of tall grass", "a brick building",
    ];

    private static readonly string[] Details =
    [
        string.Empty, " on a cloudy day", " while people watch from a distance", " with a large umbrella",
        " under bright lights at night, with several cars parked along the side of the road",
    ];

    private BenchWorkload(IReadOnlyList<MultimodalInput> texts, IReadOnlyList<MultimodalInput> images, string imageSource)
    {
        Texts = texts;
        Images = images;
        ImageSource = imageSource;
    }

    public IReadOnlyList<MultimodalInput> Texts { get; }

    public IReadOnlyList<MultimodalInput> Images { get; }

    /// <summary>Where the images come from, in words (for the report header).</summary>
    public string ImageSource { get; }

    /// <summary>Builds <paramref name="texts"/> text queries and <paramref name="images"/> image queries.</summary>
    /// <exception cref="DirectoryNotFoundException"><paramref name="imageFolder"/> does not exist.</exception>
    /// <exception cref="FileNotFoundException"><paramref name="imageFolder"/> holds no image files.</exception>
    public static BenchWorkload Create(int texts, int images, int imageSize, string? imageFolder)
    {
        var t2i = MmebCatalog.Get("MSCOCO_t2i");
        var i2t = MmebCatalog.Get("MSCOCO_i2t");
        var textInputs = new List<MultimodalInput>(texts);
        for (var i = 0; i < texts; i++)
        {
            textInputs.Add(t2i.CreateQuery(Caption(i)));
        }

        var imageInputs = new List<MultimodalInput>(images);
        string source;
        if (imageFolder is null)
        {
            for (var i = 0; i < images; i++)
            {
                imageInputs.Add(i2t.CreateQuery(image: ImageInput.FromBytes(SyntheticJpeg(i, imageSize), $"synthetic-{i}.jpg")));
            }

            source = string.Create(CultureInfo.InvariantCulture, $"synthetic {imageSize}x{imageSize} JPEG");
        }
        else
        {
            var files = ImageFiles(imageFolder);
            if (images > 0)
            {
                // Read once into memory: the timed part is decoding and what follows, not the disk.
                var bytes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                for (var i = 0; i < images; i++)
                {
                    var file = files[i % files.Count];
                    if (!bytes.TryGetValue(file, out var encoded))
                    {
                        encoded = File.ReadAllBytes(file);
                        bytes[file] = encoded;
                    }

                    imageInputs.Add(i2t.CreateQuery(image: ImageInput.FromBytes(encoded, Path.GetFileName(file))));
                }
            }

            source = string.Create(CultureInfo.InvariantCulture, $"{files.Count} file(s) from {imageFolder}");
        }

        return new BenchWorkload(textInputs, imageInputs, source);
    }

    /// <summary>A caption of 5 to 30 words, different for each index.</summary>
    internal static string Caption(int index) =>
        $"{Subjects[index % Subjects.Length]} {Actions[(index / 3) % Actions.Length]} {Places[(index / 7) % Places.Length]}{Details[(index / 2) % Details.Length]}.";

    /// <summary>
    /// A <paramref name="size"/>×<paramref name="size"/> JPEG (quality 90) seeded by <paramref name="index"/>: smooth
    /// colour gradients with a little noise, so that it compresses and decodes roughly like a photograph.
    /// </summary>
    internal static byte[] SyntheticJpeg(int index, int size)
    {
        var random = new Random(index + 1);
        var phaseR = random.Next(256);
        var phaseG = random.Next(256);
        var phaseB = random.Next(256);
        using var image = new Image<Rgb24>(size, size);
        image.ProcessPixelRows(accessor =>
        {
            for (var y = 0; y < accessor.Height; y++)
            {
                var row = accessor.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    var noise = random.Next(-12, 13);
                    row[x] = new Rgb24(
                        Channel(phaseR + (x * 255 / size) + noise),
                        Channel(phaseG + (y * 255 / size) + noise),
                        Channel(phaseB + ((x + y) * 127 / size) - noise));
                }
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream, new JpegEncoder { Quality = 90 });
        return stream.ToArray();
    }

    private static byte Channel(int value) => (byte)(((value % 256) + 256) % 256);

    private static List<string> ImageFiles(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"--image-folder '{folder}' does not exist. Give a folder of image files ({string.Join(", ", ImageExtensions)}).");
        }

        var files = Directory.EnumerateFiles(folder)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        return files.Count > 0
            ? files
            : throw new FileNotFoundException($"--image-folder '{folder}' holds no image files ({string.Join(", ", ImageExtensions)}).");
    }
}
