namespace Vlm2Vec.ML;

/// <summary>What the image column holds.</summary>
internal enum ImageSourceKind
{
    /// <summary>No image column.</summary>
    None,

    /// <summary><c>Vector&lt;Byte&gt;</c>: an encoded image file.</summary>
    EncodedBytes,

    /// <summary><c>String</c>: a file path.</summary>
    FilePath,
}
