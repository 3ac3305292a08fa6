using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Vlm2Vec.Hub;

/// <summary>
/// Checks a blob's content against its hub etag: a 64-hex etag is the sha256 of an LFS file's content, a 40-hex etag
/// the git blob sha1 (<c>sha1("blob {size}\0" + content)</c>) of a regular file. Other etags cannot be checked (size only).
/// </summary>
internal sealed class BlobHasher : IDisposable
{
    private readonly IncrementalHash _hash;
    private readonly byte[]? _gitHeader;
    private readonly string _expected;

    private BlobHasher(HashAlgorithmName algorithm, string expected, byte[]? gitHeader)
    {
        _hash = IncrementalHash.CreateHash(algorithm);
        _expected = expected;
        _gitHeader = gitHeader;
        Reset();
    }

    /// <summary>A hasher for <paramref name="etag"/>, or <see langword="null"/> when the etag is not a content hash.</summary>
    public static BlobHasher? ForEtag(string etag, long size)
    {
        var expected = etag.ToLowerInvariant();
        if (!IsHex(expected))
        {
            return null;
        }

        return expected.Length switch
        {
            64 => new BlobHasher(HashAlgorithmName.SHA256, expected, null),
            40 => new BlobHasher(HashAlgorithmName.SHA1, expected, Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {size}\0"))),
            _ => null,
        };
    }

    public string AlgorithmName => _gitHeader is null ? "sha256" : "git sha1";

    public void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);

    /// <summary>Forgets everything appended (a transfer restarts from byte 0).</summary>
    public void Reset()
    {
        Span<byte> discard = stackalloc byte[64];
        _hash.GetHashAndReset(discard);
        if (_gitHeader is not null)
        {
            _hash.AppendData(_gitHeader);
        }
    }

    /// <summary>The hex digest of what was appended, compared with the etag; resets the hasher.</summary>
    public bool Verify(out string actual)
    {
        Span<byte> digest = stackalloc byte[64];
        var written = _hash.GetHashAndReset(digest);
        actual = Convert.ToHexStringLower(digest[..written]);
        if (_gitHeader is not null)
        {
            _hash.AppendData(_gitHeader);
        }

        return actual == _expected;
    }

    public void Dispose() => _hash.Dispose();

    private static bool IsHex(string value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return value.Length > 0;
    }
}
