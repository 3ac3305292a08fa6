using System.Globalization;
using System.Text;

namespace Vlm2Vec.ML;

/// <summary>Turns the values of one row into a <see cref="MultimodalInput"/>, and describes a row in error messages.</summary>
internal static class RowInputs
{
    private const int PreviewLength = 60;

    /// <summary>The input for a row; null when the row has nothing to embed (no image and empty or missing text).</summary>
    public static MultimodalInput? Build(EmbeddingSpec spec, ReadOnlyMemory<byte> imageBytes, string? imagePath, string? text, string? instruction)
    {
        ImageInput? image = null;
        if (spec.Image == ImageSourceKind.EncodedBytes && !imageBytes.IsEmpty)
        {
            image = ImageInput.FromBytes(imageBytes, spec.ImageColumn);
        }
        else if (spec.Image == ImageSourceKind.FilePath && !string.IsNullOrEmpty(imagePath))
        {
            var path = spec.ImageFolder is null || Path.IsPathRooted(imagePath) ? imagePath : Path.Combine(spec.ImageFolder, imagePath);
            image = ImageInput.FromFile(path);
        }

        if (image is null && string.IsNullOrEmpty(text))
        {
            return null;
        }

        var effectiveInstruction = string.IsNullOrEmpty(instruction) ? spec.Instruction : instruction;
        return new MultimodalInput
        {
            Images = image is null ? [] : [image],
            Text = string.IsNullOrEmpty(text) ? null : text,
            Instruction = string.IsNullOrEmpty(effectiveInstruction) ? null : effectiveInstruction,
            Role = spec.Role,
        };
    }

    /// <summary>Why a row without content cannot be embedded, naming the columns.</summary>
    public static string NothingToEmbed(EmbeddingSpec spec) => (spec.Image, spec.TextColumn) switch
    {
        (ImageSourceKind.None, { } text) => $"its text column '{text}' is empty",
        (_, null) => $"its image column '{spec.ImageColumn}' is empty",
        _ => $"both its image column '{spec.ImageColumn}' and its text column '{spec.TextColumn}' are empty",
    };

    /// <summary>A short description of the row's content for messages.</summary>
    public static string Describe(EmbeddingSpec spec, int imageByteCount, string? imagePath, string? text)
    {
        var builder = new StringBuilder();
        if (spec.Image == ImageSourceKind.EncodedBytes)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{spec.ImageColumn} = {imageByteCount:N0} bytes");
        }
        else if (spec.Image == ImageSourceKind.FilePath)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{spec.ImageColumn} = '{imagePath}'");
        }

        if (spec.TextColumn is not null)
        {
            if (builder.Length > 0)
            {
                builder.Append(", ");
            }

            var preview = text is null ? string.Empty : text.Length <= PreviewLength ? text : string.Concat(text.AsSpan(0, PreviewLength), "…");
            builder.Append(CultureInfo.InvariantCulture, $"{spec.TextColumn} = \"{preview}\"");
        }

        return builder.ToString();
    }
}
