using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MlNetClassification;

/// <summary>Reads the two data sets into train and test lists of encoded images.</summary>
internal static class Datasets
{
    private static readonly string[] FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Fashion-MNIST: <paramref name="trainCount"/> images sampled from the 60,000 training images and
    /// <paramref name="testCount"/> from the 10,000 test images (a held-out split by construction), each 28×28 grey image
    /// encoded as PNG (what an application would hand the model).
    /// </summary>
    public static (List<LabeledImage> Train, List<LabeledImage> Test) FashionMnist(string folder, int trainCount, int testCount, int seed)
    {
        return (ReadIdx(folder, "train", trainCount, seed), ReadIdx(folder, "t10k", testCount, seed + 1));
    }

    /// <summary>
    /// Caltech-101 from a folder of class folders: per class, a seeded shuffle split 70/30 into train/test, then
    /// <paramref name="trainCount"/> and <paramref name="testCount"/> sampled from those.
    /// </summary>
    public static (List<LabeledImage> Train, List<LabeledImage> Test) Caltech101(string folder, int trainCount, int testCount, int seed)
    {
        var root = Directory.Exists(Path.Combine(folder, "images")) ? Path.Combine(folder, "images") : folder;
        var classes = Directory.GetDirectories(root).Where(d => !Path.GetFileName(d).StartsWith("BACKGROUND", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (classes.Count < 2)
        {
            throw new DirectoryNotFoundException($"'{root}' holds no class folders of images.");
        }

        var random = new Random(seed);
        var train = new List<(string Path, string Label)>();
        var test = new List<(string Path, string Label)>();
        foreach (var classFolder in classes)
        {
            var files = Directory.GetFiles(classFolder, "*.jpg").Order(StringComparer.Ordinal).ToArray();
            random.Shuffle(files);
            var cut = (int)Math.Round(files.Length * 0.7);
            var label = Path.GetFileName(classFolder);
            train.AddRange(files.Take(cut).Select(f => (f, label)));
            test.AddRange(files.Skip(cut).Select(f => (f, label)));
        }

        return (Load(Sample(train, trainCount, seed)), Load(Sample(test, testCount, seed + 1)));

        static List<LabeledImage> Load(List<(string Path, string Label)> items) =>
            [.. items.Select(i => new LabeledImage { ImageBytes = File.ReadAllBytes(i.Path), Label = i.Label })];
    }

    private static List<T> Sample<T>(List<T> items, int count, int seed)
    {
        var shuffled = items.ToArray();
        new Random(seed).Shuffle(shuffled);
        return [.. shuffled.Take(Math.Min(count, shuffled.Length))];
    }

    /// <summary>A seeded sample of <paramref name="count"/> images of a split (only those are encoded).</summary>
    private static List<LabeledImage> ReadIdx(string folder, string split, int count, int seed)
    {
        var images = ReadGz(Path.Combine(folder, $"{split}-images-idx3-ubyte.gz"));
        var labels = ReadGz(Path.Combine(folder, $"{split}-labels-idx1-ubyte.gz"));
        if (BigEndian(images, 0) != 2051 || BigEndian(labels, 0) != 2049)
        {
            throw new InvalidDataException($"'{folder}' does not hold Fashion-MNIST IDX files for '{split}'.");
        }

        int total = BigEndian(images, 4), rows = BigEndian(images, 8), columns = BigEndian(images, 12);
        var result = new List<LabeledImage>(count);
        foreach (var i in Sample(Enumerable.Range(0, total).ToList(), count, seed))
        {
            using var image = Image.LoadPixelData<L8>(images.AsSpan(16 + (i * rows * columns), rows * columns), columns, rows);
            using var png = new MemoryStream();
            image.SaveAsPng(png);
            result.Add(new LabeledImage { ImageBytes = png.ToArray(), Label = FashionClasses[labels[8 + i]] });
        }

        return result;
    }

    private static byte[] ReadGz(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"'{path}' is missing. Install the Debian package dataset-fashion-mnist (it fills {SampleOptions.DebianFashionMnist}) or pass --fashion-mnist <folder>.", path);
        }

        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static int BigEndian(byte[] data, int offset) => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(offset, 4));
}
