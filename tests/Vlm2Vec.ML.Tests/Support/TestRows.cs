using Microsoft.ML;
using Microsoft.ML.Data;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.ML.Tests.Support;

/// <summary>An input row: an image path (relative to the Caltech-101 folder), a caption, an instruction and a label.</summary>
public sealed class PhotoRow
{
    public string ImagePath { get; set; } = "";

    public string Caption { get; set; } = "";

    public string Instruction { get; set; } = "";

    public string Label { get; set; } = "";
}

/// <summary>What tests read back: the caption (to match rows) and the embedding.</summary>
public sealed class EmbeddedRow
{
    public string Caption { get; set; } = "";

    public float[] Embedding { get; set; } = [];
}

/// <summary>Rows over real images from shared/data (Caltech-101 test subset).</summary>
internal static class TestRows
{
    public static string CaltechFolder => SharedData.Path("classification", "caltech101-test10");

    /// <summary><paramref name="count"/> rows over the first images of a few classes, each with a distinct caption.</summary>
    public static PhotoRow[] Photos(int count)
    {
        string[] classes = ["airplanes", "anchor", "brain", "camera", "dolphin", "ewer", "ferry", "helicopter"];
        var rows = new PhotoRow[count];
        for (var i = 0; i < count; i++)
        {
            var label = classes[i % classes.Length];
            var folder = Path.Combine(CaltechFolder, "images", label);
            var files = Directory.GetFiles(folder, "*.jpg").Order(StringComparer.Ordinal).ToArray();
            var file = files[(i / classes.Length) % files.Length];
            rows[i] = new PhotoRow
            {
                ImagePath = Path.GetRelativePath(CaltechFolder, file),
                Caption = $"photo {i} of a {label}",
                Instruction = i % 2 == 0 ? "Represent the given image." : "",
                Label = label,
            };
        }

        return rows;
    }

    /// <summary>Embeddings of a view by caption, read with a plain cursor.</summary>
    public static Dictionary<string, float[]> ByCaption(MLContext ml, IDataView view) =>
        ml.Data.CreateEnumerable<EmbeddedRow>(view, reuseRowObject: false).ToDictionary(r => r.Caption, r => r.Embedding);
}
