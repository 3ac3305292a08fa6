using System.Security.Cryptography;

namespace Vlm2Vec;

/// <summary>A file of a model bundle with its size and SHA-256 digest, so truncated or swapped files are caught at load.</summary>
public sealed record Vlm2VecBundleFile
{
    /// <summary>Path relative to the bundle folder (forward slashes).</summary>
    public required string Path { get; init; }

    /// <summary>Size in bytes.</summary>
    public required long Bytes { get; init; }

    /// <summary>Lower-case hex SHA-256 of the content.</summary>
    public required string Sha256 { get; init; }

    /// <summary>Describes the file <paramref name="relativePath"/> of <paramref name="folder"/>: size and SHA-256 (reads it once).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static Vlm2VecBundleFile FromFile(string folder, string relativePath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        var fullPath = System.IO.Path.Combine(folder, relativePath);
        return new Vlm2VecBundleFile { Path = relativePath.Replace('\\', '/'), Bytes = new FileInfo(fullPath).Length, Sha256 = ComputeSha256(fullPath, cancellationToken) };
    }

    /// <summary>Lower-case hex SHA-256 of a file, read in 1 MiB chunks (cancellable between chunks).</summary>
    public static string ComputeSha256(string path, CancellationToken cancellationToken = default)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
