namespace Vlm2Vec;

/// <summary>Why an image could not be used.</summary>
public enum ImageErrorKind
{
    /// <summary>No bytes at all.</summary>
    Empty,

    /// <summary>The bytes are not in any supported image format.</summary>
    UnknownFormat,

    /// <summary>The file is damaged (bad headers, invalid data).</summary>
    Corrupt,

    /// <summary>The file ends before the image data does.</summary>
    Truncated,

    /// <summary>The encoded size is over <c>ImageLimits.MaxEncodedBytes</c>.</summary>
    TooManyBytes,

    /// <summary>The declared canvas is over <c>ImageLimits.MaxPixels</c> (checked before decoding).</summary>
    TooManyPixels,

    /// <summary>A valid file using a feature the decoder does not support.</summary>
    Unsupported,

    /// <summary>The file or stream could not be read.</summary>
    Unreadable,
}
