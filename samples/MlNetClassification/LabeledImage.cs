namespace MlNetClassification;

/// <summary>One example: the encoded image file (PNG or JPEG bytes) and its class name.</summary>
public sealed class LabeledImage
{
    public byte[] ImageBytes { get; set; } = [];

    public string Label { get; set; } = "";
}
