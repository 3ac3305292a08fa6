namespace Vlm2Vec.Cli.Search;

/// <summary>
/// The exact strings the demo model (<c>models/fashion-demo</c>) was trained with; the demo feeds them verbatim
/// (<see cref="MultimodalInput.Prompt"/>) so that its inputs tokenize exactly as in training.
/// </summary>
internal static class DemoPrompts
{
    /// <summary>An image for classification and image → image search (query side in training).</summary>
    public const string ClassificationImage = "<|image_1|>\nRepresent the given image for classification\n";

    /// <summary>An image as the target of a text → image search.</summary>
    public const string TargetImage = "<|image_1|>\nRepresent the given image.\n";

    /// <summary>The start of a text → image query; the caption and a newline follow.</summary>
    public const string CaptionQueryPrefix = "Find me an everyday image that matches the given caption: ";

    /// <summary>The ten Fashion-MNIST labels, in class order: the classification targets, as plain text.</summary>
    public static IReadOnlyList<string> Labels { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The text → image captions the demo asks, with the label a correct hit has.</summary>
    public static IReadOnlyList<(string Caption, string Label)> Captions { get; } =
    [
        ("a photo of a sneaker", "Sneaker"),
        ("a photo of a bag", "Bag"),
        ("a photo of a dress", "Dress"),
    ];

    /// <summary>The image the image → image search starts from.</summary>
    public const string ImageQueryFile = "sneaker-1.png";

    /// <summary>The text → image query for <paramref name="caption"/>.</summary>
    public static MultimodalInput CaptionQuery(string caption) =>
        new() { Prompt = CaptionQueryPrefix + caption + "\n", Role = EmbeddingRole.Query };

    /// <summary>A label as a classification target.</summary>
    public static MultimodalInput LabelTarget(string label) => new() { Prompt = label, Role = EmbeddingRole.Target };

    /// <summary>An image with <see cref="ClassificationImage"/>.</summary>
    public static MultimodalInput ClassificationInput(ImageInput image) =>
        new() { Prompt = ClassificationImage, Images = [image], Role = EmbeddingRole.Query };

    /// <summary>An image with <see cref="TargetImage"/>.</summary>
    public static MultimodalInput TargetInput(ImageInput image) =>
        new() { Prompt = TargetImage, Images = [image], Role = EmbeddingRole.Target };
}
