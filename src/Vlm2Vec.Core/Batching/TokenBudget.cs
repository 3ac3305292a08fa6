using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Preprocessing;

/// <summary>
/// Applies the token limit to one input's expanded token ids (spec §3.4: never truncate inside an image run).
/// </summary>
internal static class TokenBudget
{
    /// <summary>
    /// Returns <paramref name="ids"/> itself when it fits, a shortened copy under <see cref="TruncationPolicy.TruncateText"/>,
    /// or throws. Under truncation every image token is kept, the final token (the pooled one) is kept, and the text
    /// tokens before it are kept from the left until the limit is reached: the dropped tokens are the end of the text,
    /// as with right-side truncation. When <paramref name="hasImages"/> is false, placeholder ids are ordinary text
    /// tokens (stray placeholders) and may be dropped like any other.
    /// </summary>
    /// <exception cref="InputTooLongException">The policy is to refuse, or the image tokens alone reach the limit.</exception>
    internal static int[] Apply(
        int[] ids, int imageTokenId, bool hasImages, int maxTokens, TruncationPolicy policy, ILogger logger, string inputName, out bool truncated)
    {
        truncated = false;
        if (ids.Length <= maxTokens)
        {
            return ids;
        }

        var imageTokens = hasImages ? ids.AsSpan().Count(imageTokenId) : 0;
        if (imageTokens >= maxTokens)
        {
            throw new InputTooLongException(
                $"{inputName} needs {ids.Length} tokens, {imageTokens} of them for its image(s); the limit is {maxTokens} (MaxTokens) and image tokens are " +
                "never cut. Lower the image resolution (the image processor's max pixels) or raise MaxTokens.",
                ids.Length,
                maxTokens);
        }

        if (policy == TruncationPolicy.Refuse)
        {
            throw new InputTooLongException(
                $"{inputName} needs {ids.Length} tokens; the limit is {maxTokens} (MaxTokens). Shorten the text, raise MaxTokens, or use TruncationPolicy.TruncateText.",
                ids.Length,
                maxTokens);
        }

        var last = ids.Length - 1;
        var lastIsText = !hasImages || ids[last] != imageTokenId;
        var textQuota = maxTokens - imageTokens - (lastIsText ? 1 : 0);
        var result = new int[maxTokens];
        var written = 0;
        var keptText = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids[i];
            if ((hasImages && id == imageTokenId) || i == last)
            {
                result[written++] = id;
            }
            else if (keptText < textQuota)
            {
                result[written++] = id;
                keptText++;
            }
        }

        truncated = true;
        PreprocessingLog.Truncated(logger, inputName, ids.Length, maxTokens, ids.Length - maxTokens);
        return result;
    }
}
