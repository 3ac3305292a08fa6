using System.Security.Cryptography;
using System.Text.Json;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Images;

/// <summary>Access to the image fixtures made by tools/fixtures/make_image_fixtures.py (Pillow 9.4, numpy).</summary>
internal static class ImageFixtures
{
    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "images");

    public static string RobustnessFolder => SharedData.Path("images", "robustness");

    /// <summary>The "cases" array of a fixture JSON file.</summary>
    public static JsonElement Cases(string file)
    {
        var path = Path.Combine(Folder, file);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Image fixture '{path}' is missing; run tools/fixtures/make_image_fixtures.py.", path);
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("cases").Clone();
    }

    /// <summary>Decodes a fixture source: "shared:&lt;path under shared/data&gt;" or a path under the fixture folder.</summary>
    public static DecodedImage Load(string source)
    {
        var path = source.StartsWith("shared:", StringComparison.Ordinal)
            ? SharedData.Path(source["shared:".Length..].Split('/'))
            : Path.Combine(Folder, source);
        return ImageDecoder.Decode(ImageInput.FromFile(path));
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
