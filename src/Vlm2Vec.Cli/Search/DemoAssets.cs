namespace Vlm2Vec.Cli.Search;

/// <summary>
/// Where <c>vlm2vec demo</c> finds what it ships with: the demo model (<c>models/fashion-demo</c> of the repository,
/// copied to <c>demo/model</c>) and the sample images (<c>samples/images/fashion-mnist</c>, copied to
/// <c>demo/images</c>), both beside the tool's assembly (the build output, or the dotnet-tool package's folder).
/// </summary>
internal static class DemoAssets
{
    /// <summary>The file of the sample images folder that gives each image's label.</summary>
    public const string LabelsFile = "labels.csv";

    /// <summary>The shipped demo model folder.</summary>
    public static string ModelFolder => Path.Combine(AppContext.BaseDirectory, "demo", "model");

    /// <summary>The shipped sample images folder.</summary>
    public static string ImagesFolder => Path.Combine(AppContext.BaseDirectory, "demo", "images");

    /// <summary>The demo model folder; it must hold a model.</summary>
    /// <exception cref="ModelFormatException">The folder is missing or holds no model.</exception>
    public static string RequireModel()
    {
        var folder = ModelFolder;
        if (!File.Exists(Path.Combine(folder, "vlm2vec.json")) && !File.Exists(Path.Combine(folder, "config.json")))
        {
            throw new ModelFormatException(
                $"The demo model is missing: '{folder}' holds no model. This build of vlm2vec was made without models/fashion-demo; " +
                "rebuild it from the repository, or pass --model <folder>.");
        }

        return folder;
    }

    /// <summary>The sample images folder; it must hold <see cref="LabelsFile"/>.</summary>
    /// <exception cref="InvalidInputException">The folder or its labels file is missing.</exception>
    public static string RequireImages()
    {
        var folder = ImagesFolder;
        if (!File.Exists(Path.Combine(folder, LabelsFile)))
        {
            throw new InvalidInputException(
                $"The demo's sample images are missing: '{Path.Combine(folder, LabelsFile)}' does not exist. This build of vlm2vec was made " +
                "without samples/images/fashion-mnist; rebuild it from the repository.");
        }

        return folder;
    }

    /// <summary>Reads <c>labels.csv</c> (<c>file,label[,…]</c> with a header row): file name → label.</summary>
    /// <exception cref="InvalidInputException">A line has fewer than two fields.</exception>
    public static Dictionary<string, string> ReadLabels(string imagesFolder)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(Path.Combine(imagesFolder, LabelsFile)))
        {
            lineNumber++;
            if (lineNumber == 1 || string.IsNullOrWhiteSpace(line))
            {
                continue; // the header
            }

            var fields = line.Split(',');
            if (fields.Length < 2 || fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new InvalidInputException($"{LabelsFile} line {lineNumber} is not 'file,label': '{line}'.");
            }

            labels[fields[0].Trim()] = fields[1].Trim();
        }

        return labels;
    }
}
