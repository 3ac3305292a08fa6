using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Vlm2Vec.ML.Tests.Support;

/// <summary>A generated pair row: a PNG of a noisy coloured square and its colour name.</summary>
public sealed class ColourRow
{
    public byte[] ImageBytes { get; set; } = [];

    public string Label { get; set; } = "";
}

/// <summary>Generated classification data: 56×56 PNGs of four colours with per-pixel noise.</summary>
internal static class ColourSquares
{
    private static readonly (string Name, byte R, byte G, byte B)[] Colours =
        [("red", 220, 40, 40), ("green", 40, 200, 60), ("blue", 40, 60, 220), ("yellow", 230, 220, 40)];

    public static ColourRow[] Rows(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new ColourRow[count];
        for (var i = 0; i < count; i++)
        {
            var colour = Colours[i % Colours.Length];
            using var image = new Image<Rgb24>(56, 56);
            for (var y = 0; y < 56; y++)
            {
                for (var x = 0; x < 56; x++)
                {
                    image[x, y] = new Rgb24(Noisy(colour.R, random), Noisy(colour.G, random), Noisy(colour.B, random));
                }
            }

            using var png = new MemoryStream();
            image.SaveAsPng(png);
            rows[i] = new ColourRow { ImageBytes = png.ToArray(), Label = colour.Name };
        }

        return rows;
    }

    private static byte Noisy(byte value, Random random) => (byte)Math.Clamp(value + random.Next(-30, 31), 0, 255);
}
