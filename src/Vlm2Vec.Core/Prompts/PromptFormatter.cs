using System.Text;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Turns a <see cref="MultimodalInput"/> into the exact string VLM2Vec feeds its backbone (spec §1.2): one image
/// placeholder per image, the instruction, the content text, and the whitespace rules of the chosen
/// <see cref="PromptStyle"/>. No chat template, BOS/EOS or vision markers are added. Thread-safe.
/// </summary>
/// <remarks>
/// <para><see cref="PromptStyle.V1"/> (the MMEB strings, VLM2Vec@main <c>image_*</c> eval parsers):</para>
/// <list type="bullet">
/// <item>With images: <c>placeholder×n + "\n" + instruction + [" " + text]</c>, every <c>" \n"</c> folded to
/// <c>"\n"</c>, then a trailing <c>"\n"</c>. MMEB's <c>&lt;|image_1|&gt;</c> is removed from the instruction and the
/// instruction is trimmed (the parsers strip it or fold the newline that followed the placeholder). No space is added
/// when the text is empty; with neither instruction nor text the string is <c>placeholder×n + "\n"</c>.</item>
/// <item>Text-only query: <c>instruction + [" " + text] + "\n"</c>; MMEB's <c>&lt;|image_1|&gt;</c> becomes the
/// backbone placeholder and stays as an ordinary token when <see cref="MultimodalInput.KeepStrayPlaceholders"/> is set
/// (the WebQA/EDIS quirk).</item>
/// <item>Text-only target: <c>instruction + [" " + text]</c> with no newline (labels, answers and captions are raw).</item>
/// <item><see cref="PromptQuirks.ExtraTrailingNewline"/> adds one <c>"\n"</c> (VisDial);
/// <see cref="PromptQuirks.NoTrailingNewline"/> drops the trailing one (grounding cropped-image targets).</item>
/// </list>
/// <para><see cref="PromptStyle.V2"/>: <c>process_input_text</c>, <c>placeholder×n + " " + instruction + [" " + text]</c>
/// for images, <c>instruction + [" " + text]</c> otherwise.</para>
/// <para>Several images: their placeholders are adjacent, in image order. <see cref="MultimodalInput.Prompt"/> is used
/// verbatim, with <c>&lt;|image_1|&gt;</c> replaced by the backbone placeholder; it must hold one placeholder per image.</para>
/// </remarks>
public sealed class PromptFormatter
{
    /// <summary>The image placeholder MMEB data files are stored with (Phi-3.5-V's).</summary>
    public const string MmebImagePlaceholder = "<|image_1|>";

    private readonly string _placeholder;
    private readonly string? _videoPlaceholder;

    /// <summary>Creates a formatter.</summary>
    /// <exception cref="ArgumentException">The image placeholder is empty.</exception>
    public PromptFormatter(PromptFormatterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.ImagePlaceholder, nameof(options));
        if (!Enum.IsDefined(options.Style))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Prompt style {options.Style} is not one of V1, V2.");
        }

        Options = options;
        _placeholder = options.ImagePlaceholder;
        _videoPlaceholder = string.IsNullOrEmpty(options.VideoPlaceholder) ? null : options.VideoPlaceholder;
    }

    /// <summary>The settings.</summary>
    public PromptFormatterOptions Options { get; }

    /// <summary>Formats one input.</summary>
    /// <exception cref="InvalidInputException">
    /// The input is invalid (see <see cref="MultimodalInput.Validate"/>), or its placeholders do not match its images.
    /// </exception>
    public string Format(MultimodalInput input) => FormatDetailed(input).Text;

    /// <summary>Formats one input and reports how many placeholders it holds and whether they carry images.</summary>
    internal FormattedPrompt FormatDetailed(MultimodalInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        input.Validate();
        if (input.Prompt is not null)
        {
            return FormatVerbatim(input);
        }

        var instruction = input.Instruction ?? string.Empty;
        var text = input.Text ?? string.Empty;
        RejectVideo(instruction, "Instruction");
        RejectVideo(text, "Text");
        var imageCount = input.Images.Count;
        if (imageCount > 0)
        {
            // VLM2Vec's parsers drop MMEB's placeholder from the instruction and add the backbone's in front.
            instruction = instruction.Replace(MmebImagePlaceholder, string.Empty, StringComparison.Ordinal);
            if (CountOf(instruction, _placeholder) + CountOf(text, _placeholder) + CountOf(text, MmebImagePlaceholder) > 0)
            {
                throw new InvalidInputException(
                    $"The input has {imageCount} image(s) and its Instruction or Text also contains an image placeholder ('{_placeholder}' or '{MmebImagePlaceholder}'). " +
                    "The formatter places one placeholder per image itself; remove it, or give the exact string in Prompt.");
            }

            var formatted = Options.Style == PromptStyle.V1
                ? ImageSideV1(imageCount, instruction.Trim(), text, input.Quirks)
                : ImageSideV2(imageCount, instruction, text);
            return new FormattedPrompt(formatted, imageCount, 0);
        }

        instruction = instruction.Replace(MmebImagePlaceholder, _placeholder, StringComparison.Ordinal);
        text = text.Replace(MmebImagePlaceholder, _placeholder, StringComparison.Ordinal);
        var strays = CountOf(instruction, _placeholder) + CountOf(text, _placeholder);
        if (strays > 0 && !input.KeepStrayPlaceholders)
        {
            throw new InvalidInputException(
                $"The input has no image but its Instruction or Text contains {strays} image placeholder(s). Attach the image(s), remove the placeholder, " +
                "or set KeepStrayPlaceholders to keep it as an ordinary token (VLM2Vec's WebQA/EDIS behaviour).");
        }

        var body = JoinWithSpace(instruction, text);
        var result = Options.Style == PromptStyle.V1
            ? body + Trailing(input.Role == EmbeddingRole.Query, input.Quirks)
            : body;
        return new FormattedPrompt(result, 0, strays);
    }

    private FormattedPrompt FormatVerbatim(MultimodalInput input)
    {
        var prompt = input.Prompt!.Replace(MmebImagePlaceholder, _placeholder, StringComparison.Ordinal);
        RejectVideo(prompt, "Prompt");
        var placeholders = CountOf(prompt, _placeholder);
        var imageCount = input.Images.Count;
        if (imageCount > 0)
        {
            if (placeholders != imageCount)
            {
                throw new InvalidInputException(
                    $"The input's Prompt has {placeholders} image placeholder(s) ('{_placeholder}' or '{MmebImagePlaceholder}') but the input has {imageCount} image(s): " +
                    "each image needs exactly one placeholder, in image order.");
            }

            return new FormattedPrompt(prompt, imageCount, 0);
        }

        if (placeholders > 0 && !input.KeepStrayPlaceholders)
        {
            throw new InvalidInputException(
                $"The input's Prompt has {placeholders} image placeholder(s) but no image. Attach the image(s), remove the placeholder, " +
                "or set KeepStrayPlaceholders to keep it as an ordinary token (VLM2Vec's WebQA/EDIS behaviour).");
        }

        return new FormattedPrompt(prompt, 0, placeholders);
    }

    private string ImageSideV1(int imageCount, string instruction, string text, PromptQuirks quirks)
    {
        var builder = new StringBuilder(_placeholder.Length * imageCount + instruction.Length + text.Length + 4);
        for (var i = 0; i < imageCount; i++)
        {
            builder.Append(_placeholder);
        }

        var body = JoinWithSpace(instruction, text);
        if (body.Length > 0)
        {
            builder.Append('\n').Append(body);
        }

        // The reference folds " \n" over the whole string (content included) before appending the final newline.
        builder.Replace(" \n", "\n");
        builder.Append(Trailing(defaultNewline: true, quirks));
        return builder.ToString();
    }

    private string ImageSideV2(int imageCount, string instruction, string text)
    {
        var builder = new StringBuilder(_placeholder.Length * imageCount + instruction.Length + text.Length + 2);
        for (var i = 0; i < imageCount; i++)
        {
            builder.Append(_placeholder);
        }

        builder.Append(' ').Append(JoinWithSpace(instruction, text));
        return builder.ToString();
    }

    private static string Trailing(bool defaultNewline, PromptQuirks quirks)
    {
        if ((quirks & PromptQuirks.NoTrailingNewline) != 0)
        {
            return string.Empty;
        }

        var trailing = defaultNewline ? "\n" : string.Empty;
        return (quirks & PromptQuirks.ExtraTrailingNewline) != 0 ? trailing + "\n" : trailing;
    }

    private static string JoinWithSpace(string first, string second) =>
        first.Length == 0 ? second : second.Length == 0 ? first : string.Concat(first, " ", second);

    private void RejectVideo(string value, string what)
    {
        if (_videoPlaceholder is not null && value.Contains(_videoPlaceholder, StringComparison.Ordinal))
        {
            throw new InvalidInputException(
                $"The input's {what} contains the video placeholder '{_videoPlaceholder}'. Videos are not supported; only images (one '{_placeholder}' per image) are.");
        }
    }

    internal static int CountOf(string value, string token)
    {
        var count = 0;
        var at = value.IndexOf(token, StringComparison.Ordinal);
        while (at >= 0)
        {
            count++;
            at = value.IndexOf(token, at + token.Length, StringComparison.Ordinal);
        }

        return count;
    }
}
