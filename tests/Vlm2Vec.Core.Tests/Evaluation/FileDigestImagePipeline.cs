using System.Security.Cryptography;
using Vlm2Vec.Preprocessing;

namespace Vlm2Vec.Core.Tests.Evaluation;

/// <summary>
/// An image stage for evaluation tests: it really reads the file (a missing file fails as in production) but skips
/// decoding, returning a 1×2×2 patch grid (one merged token) whose values are the file's SHA-256 bytes, so that two
/// images differ exactly when their bytes do. It counts the images it processed.
/// </summary>
internal sealed class FileDigestImagePipeline : IImagePipeline
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public ProcessedImage Process(ImageInput image)
    {
        Interlocked.Increment(ref _calls);
        var bytes = image.ReadEncodedBytes(ImageLimits.Default.MaxEncodedBytes);
        var digest = SHA256.HashData(bytes.Span);
        var pixels = new float[4 * 1176];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = digest[i % digest.Length] / 255f;
        }

        return new ProcessedImage(pixels, 1, 2, 2, 1176);
    }
}
