namespace Vlm2Vec;

/// <summary>
/// An image to embed, given as encoded bytes (JPEG, PNG, GIF, WebP, BMP, TIFF), a file path or a stream.
/// Nothing is read or decoded until the image is prepared; size limits are enforced before anything large is allocated.
/// </summary>
public sealed class ImageInput
{
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly Stream? _stream;
    private readonly bool _leaveOpen;
    private int _streamConsumed;

    private ImageInput(ReadOnlyMemory<byte> bytes, string? filePath, Stream? stream, bool leaveOpen, string? name)
    {
        _bytes = bytes;
        FilePath = filePath;
        _stream = stream;
        _leaveOpen = leaveOpen;
        Name = name ?? filePath;
    }

    /// <summary>The file path, when the image comes from a file.</summary>
    public string? FilePath { get; }

    /// <summary>A name used in error messages (the path, or what the caller supplied).</summary>
    public string? Name { get; }

    /// <summary>An image from encoded bytes (the bytes are not copied).</summary>
    public static ImageInput FromBytes(ReadOnlyMemory<byte> encoded, string? name = null) =>
        new(encoded, null, null, false, name);

    /// <summary>An image from a file; the file is read when the input is prepared.</summary>
    public static ImageInput FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new(ReadOnlyMemory<byte>.Empty, Path.GetFullPath(path), null, false, path);
    }

    /// <summary>
    /// An image from a stream. The stream is read once, when the input is prepared, and disposed afterwards unless
    /// <paramref name="leaveOpen"/> is true. Preparing the same stream input twice fails.
    /// </summary>
    public static ImageInput FromStream(Stream stream, string? name = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new(ReadOnlyMemory<byte>.Empty, null, stream, leaveOpen, name);
    }

    /// <summary>
    /// Reads the encoded bytes, refusing more than <paramref name="maxBytes"/> without reading them all.
    /// </summary>
    /// <exception cref="ImageDecodeException">Empty, too large or unreadable.</exception>
    public ReadOnlyMemory<byte> ReadEncodedBytes(long maxBytes)
    {
        ReadOnlyMemory<byte> bytes;
        if (FilePath is not null)
        {
            bytes = ReadFile(FilePath, maxBytes);
        }
        else if (_stream is not null)
        {
            bytes = ReadStream(maxBytes);
        }
        else
        {
            bytes = _bytes;
            if (bytes.Length > maxBytes)
            {
                throw TooLarge(bytes.Length, maxBytes);
            }
        }

        if (bytes.IsEmpty)
        {
            throw new ImageDecodeException(ImageErrorKind.Empty, Name, $"Image {Describe()} is empty (0 bytes).");
        }

        return bytes;
    }

    /// <inheritdoc />
    public override string ToString() => Describe();

    private string Describe() => Name is null ? "(unnamed)" : $"'{Name}'";

    private ImageDecodeException TooLarge(long length, long maxBytes) => new(
        ImageErrorKind.TooManyBytes,
        Name,
        $"Image {Describe()} is {length:N0} bytes; the limit is {maxBytes:N0} bytes (ImageLimits.MaxEncodedBytes).");

    private byte[] ReadFile(string path, long maxBytes)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new ImageDecodeException(ImageErrorKind.Unreadable, Name, $"Image file '{path}' does not exist.");
            }

            if (info.Length > maxBytes)
            {
                throw TooLarge(info.Length, maxBytes);
            }

            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(ImageErrorKind.Unreadable, Name, $"Image file '{path}' could not be read: {ex.Message}", ex);
        }
    }

    private byte[] ReadStream(long maxBytes)
    {
        if (Interlocked.Exchange(ref _streamConsumed, 1) != 0)
        {
            throw new InvalidOperationException($"The stream of image {Describe()} has already been read; create a new ImageInput.");
        }

        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = _stream!.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    throw TooLarge(buffer.Length + read, maxBytes);
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        catch (Exception ex) when (ex is IOException or NotSupportedException or ObjectDisposedException)
        {
            throw new ImageDecodeException(ImageErrorKind.Unreadable, Name, $"Image stream {Describe()} could not be read: {ex.Message}", ex);
        }
        finally
        {
            if (!_leaveOpen)
            {
                _stream!.Dispose();
            }
        }
    }
}
