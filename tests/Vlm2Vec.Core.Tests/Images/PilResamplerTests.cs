using System.Text.Json;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Images;

/// <summary>
/// The Pillow-compatible resampler against Image.resize outputs made by Pillow 9.4 (resize_cases.json): up- and
/// down-sampling, odd sizes, one-axis resizes, extreme ratios, all five convolution filters. The target is byte
/// equality; the stated tolerance is ±1 per value.
/// </summary>
public sealed class PilResamplerTests
{
    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        var count = ImageFixtures.Cases("resize_cases.json").GetArrayLength();
        for (var i = 0; i < count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Resize_matches_pillow(int index)
    {
        var c = ImageFixtures.Cases("resize_cases.json")[index];
        var source = ImageFixtures.Load(c.GetProperty("source").GetString()!);
        var width = c.GetProperty("width").GetInt32();
        var height = c.GetProperty("height").GetInt32();
        var filter = Enum.Parse<PilResampleFilter>(c.GetProperty("filter").GetString()!, ignoreCase: true);

        var output = new byte[width * height * 3];
        PilResampler.Resize(source.Rgb, source.Width, source.Height, output, width, height, filter);

        var label = $"{c.GetProperty("source").GetString()} {source.Width}x{source.Height} -> {width}x{height} {filter}";
        if (c.TryGetProperty("output", out var file))
        {
            var expected = ImageFixtures.Load(file.GetString()!);
            Assert.Equal((width, height), (expected.Width, expected.Height));
            var maxDiff = 0;
            var differing = 0;
            for (var i = 0; i < output.Length; i++)
            {
                var d = Math.Abs(output[i] - expected.Rgb[i]);
                maxDiff = Math.Max(maxDiff, d);
                differing += d == 0 ? 0 : 1;
            }

            Assert.True(maxDiff <= 1, $"{label}: max difference {maxDiff} (allowed 1), {differing} values differ.");
        }

        // Every case also carries the digest of Pillow's bytes; this implementation reproduces them exactly.
        Assert.True(
            c.GetProperty("sha256").GetString() == ImageFixtures.Sha256(output),
            $"{label}: output is not byte-identical to Pillow's.");
    }

    [Fact]
    public void Same_size_is_a_copy()
    {
        var source = new byte[5 * 4 * 3];
        new Random(3).NextBytes(source);
        var output = new byte[source.Length];
        PilResampler.Resize(source, 5, 4, output, 5, 4);
        Assert.Equal(source, output);
    }

    [Fact]
    public void Constant_image_stays_constant_through_overshooting_filters()
    {
        var source = Enumerable.Repeat((byte)200, 31 * 17 * 3).ToArray();
        foreach (var filter in Enum.GetValues<PilResampleFilter>())
        {
            var output = new byte[73 * 9 * 3];
            PilResampler.Resize(source, 31, 17, output, 73, 9, filter);
            Assert.All(output, v => Assert.Equal(200, v));
        }
    }

    [Fact]
    public void Rejects_buffers_smaller_than_their_images()
    {
        Assert.Throws<ArgumentException>(() => PilResampler.Resize(new byte[10], 2, 2, new byte[12], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => PilResampler.Resize(new byte[12], 2, 2, new byte[12], 0, 2));
    }
}
