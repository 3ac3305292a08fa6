namespace Vlm2Vec.Server.Protocol;

/// <summary>
/// Decodes the image strings of the multimodal extension: a data URL (<c>data:image/png;base64,...</c>) or bare base64.
/// Nothing is ever fetched: URLs and file paths are refused, so request content cannot make the server read files or
/// call other hosts.
/// </summary>
internal static class ImageData
{
    public static bool IsDataUrl(string value) => value.StartsWith("data:", StringComparison.OrdinalIgnoreCase);

    /// <summary>The image bytes of <paramref name="value"/>.</summary>
    /// <exception cref="ApiException">400 for a malformed value or a URL/path; 413 when over <paramref name="maxBytes"/>.</exception>
    public static byte[] Decode(string value, string param, long maxBytes)
    {
        ReadOnlySpan<char> payload;
        if (IsDataUrl(value))
        {
            var comma = value.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0)
            {
                throw ApiException.BadRequest($"'{param}' is a data URL without a ',' before its data.", param, "invalid_image");
            }

            var header = value.AsSpan(5, comma - 5);
            if (!header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            {
                throw ApiException.BadRequest($"'{param}' must be a base64 data URL (data:image/...;base64,...).", param, "invalid_image");
            }

            var mediaType = header[..^7];
            if (mediaType.Length > 0 && !mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
            {
                throw ApiException.BadRequest(
                    $"'{param}' is a data URL of type '{mediaType.ToString()}'; only image/* is accepted.", param, "invalid_image");
            }

            payload = value.AsSpan(comma + 1);
        }
        else
        {
            if (value.Contains("://", StringComparison.Ordinal) || value.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            {
                throw ApiException.BadRequest(
                    $"'{param}' looks like a URL or a file path; the server never fetches URLs or reads files. Send the image itself as a data URL or base64.",
                    param,
                    "invalid_image");
            }

            payload = value.AsSpan();
        }

        payload = payload.Trim();
        if (payload.IsEmpty)
        {
            throw ApiException.BadRequest($"'{param}' has no image data.", param, "invalid_image");
        }

        var upperBound = (payload.Length / 4 * 3) + 3;
        var estimate = (long)payload.Length * 3 / 4;
        if (estimate > maxBytes + 2)
        {
            throw ApiException.TooLarge(
                $"'{param}' is about {estimate:N0} bytes; the limit is {maxBytes:N0} bytes per image.", "image_too_large", param);
        }

        // Exact size for well-formed base64 (no whitespace), so the common case allocates once.
        var padding = payload.EndsWith("==") ? 2 : payload.EndsWith("=") ? 1 : 0;
        var buffer = new byte[payload.Length % 4 == 0 ? (payload.Length / 4 * 3) - padding : upperBound];
        if (!Convert.TryFromBase64Chars(payload, buffer, out var written))
        {
            throw ApiException.BadRequest(
                $"'{param}' is not valid base64. Send the image bytes as a data URL or base64; file paths and URLs are never read.", param, "invalid_image");
        }

        if (written > maxBytes)
        {
            throw ApiException.TooLarge($"'{param}' is {written:N0} bytes; the limit is {maxBytes:N0} bytes per image.", "image_too_large", param);
        }

        return written == buffer.Length ? buffer : buffer.AsSpan(0, written).ToArray();
    }
}
