using Vlm2Vec;
using Vlm2Vec.Extensions.AI;

namespace MultimodalMemory;

/// <summary>
/// The prompts and default queries for the shipped demo model (<c>models/fashion-demo</c>). That model was trained on
/// exactly two kinds of pair: an image with MMEB's classification instruction → its label text, and a caption with MMEB's
/// text → image instruction (<c>"Find me an everyday image that matches the given caption: a photo of a sneaker\n"</c>)
/// → the image with <c>"&lt;|image_1|&gt;\nRepresent the given image.\n"</c>. The generator's defaults for text queries and
/// image targets already produce those two strings (prompt style V1); the only change is for image queries, which the model
/// never saw with an instruction of their own: they are embedded like stored images, so an image query finds the images
/// nearest in the model's image space.
/// </summary>
public static class DemoPrompts
{
    /// <summary>The text → image query instruction the demo model was trained with (MMEB's MSCOCO_t2i).</summary>
    public const string TextQueryInstruction = "Find me an everyday image that matches the given caption:";

    /// <summary>The image-side instruction the demo model was trained with for retrieval targets (MMEB's MSCOCO_t2i).</summary>
    public const string ImageInstruction = "Represent the given image.";

    /// <summary>Text queries asked when none is given: captions in the phrasing the demo model was trained and evaluated with.</summary>
    public static IReadOnlyList<string> DefaultTextQueries { get; } = ["a photo of a sneaker", "a photo of trousers", "a photo of a bag"];

    /// <summary>The image query asked when none is given (a file of the shipped sample images).</summary>
    public const string DefaultImageQuery = "ankle-boot-1.png";

    /// <summary>Sets the generator's prompts to the ones the demo model was trained with.</summary>
    public static void Apply(Vlm2VecEmbeddingGeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PromptStyle = PromptStyle.V1;
        options.DefaultInstructions.TextQuery = TextQueryInstruction;
        options.DefaultInstructions.ImageTarget = ImageInstruction;
        options.DefaultInstructions.ImageQuery = ImageInstruction;
        options.DefaultInstructions.TextTarget = null;
    }
}
