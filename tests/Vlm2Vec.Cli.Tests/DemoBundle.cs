using System.Text.Json;
using Vlm2Vec.Cli.Search;

namespace Vlm2Vec.Cli.Tests;

/// <summary>
/// The demo model and sample images shipped with the tool (models/fashion-demo, samples/images/fashion-mnist), found
/// the way the product finds them: beside the assembly (the Cli project copies them to demo/ of every output folder).
/// </summary>
internal static class DemoBundle
{
    public static string ModelFolder
    {
        get
        {
            var folder = DemoAssets.ModelFolder;
            Assert.True(File.Exists(Path.Combine(folder, "vlm2vec.json")), $"The demo model is missing at '{folder}' (models/fashion-demo must be copied by the build).");
            return folder;
        }
    }

    /// <summary>What the ONNX Runtime encoder reports for the demo model, from its manifest (no session is made).</summary>
    public static Vlm2VecModelInfo ModelInfo
    {
        get
        {
            using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(ModelFolder, "vlm2vec.json")));
            return new Vlm2VecModelInfo
            {
                ModelId = manifest.RootElement.GetProperty("model_id").GetString()!,
                Dimension = manifest.RootElement.GetProperty("embedding_dimension").GetInt32(),
            };
        }
    }

    public static string ImagesFolder => DemoAssets.RequireImages();

    public static string Image(string name) => Path.Combine(ImagesFolder, name);
}
