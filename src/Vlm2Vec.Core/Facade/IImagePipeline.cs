namespace Vlm2Vec.Preprocessing;

/// <summary>Turns one image input into processed patches (read → decode → resize → normalise → patchify).</summary>
internal interface IImagePipeline
{
    /// <summary>Processes one image.</summary>
    /// <exception cref="ImageDecodeException">The image cannot be read or decoded, or breaks a limit.</exception>
    ProcessedImage Process(ImageInput image);
}
