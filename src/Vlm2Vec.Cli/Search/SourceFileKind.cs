namespace Vlm2Vec.Cli.Search;

/// <summary>What <c>vlm2vec index</c> makes of a file.</summary>
internal enum SourceFileKind
{
    /// <summary>An image (jpg, jpeg, png, gif, bmp, webp): embedded as an image target.</summary>
    Image,

    /// <summary>A text file (.txt, .md): its content embedded as a text target.</summary>
    Text,
}
