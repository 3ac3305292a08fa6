namespace Vlm2Vec.Server;

/// <summary>
/// Request limits of the server. Breaking a size limit answers 413; an input over the model's token limit answers 400
/// (<c>context_length_exceeded</c>) unless <see cref="TruncateLongInputs"/> is on; a full queue answers 429.
/// </summary>
public sealed record Vlm2VecServerLimits
{
    /// <summary>Largest request body in bytes (default 32 MiB; base64 images count here).</summary>
    public long MaxRequestBodyBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Most inputs in one request (default 2,048, OpenAI's limit).</summary>
    public int MaxItemsPerRequest { get; init; } = 2048;

    /// <summary>Most images in one request (default 64).</summary>
    public int MaxImagesPerRequest { get; init; } = 64;

    /// <summary>Largest image after base64 decoding, in bytes (default 16 MiB).</summary>
    public long MaxImageBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Largest image canvas in pixels, checked from the header before decoding (default 40 megapixels).</summary>
    public long MaxImagePixels { get; init; } = 40_000_000;

    /// <summary>Longest text of one input (text plus instruction), in UTF-16 characters (default 100,000).</summary>
    public int MaxTextLength { get; init; } = 100_000;

    /// <summary>Most tokens of one input after image-placeholder expansion; null (default) takes the model's limit.</summary>
    public int? MaxInputTokens { get; init; }

    /// <summary>
    /// Cut the text of longer inputs (with a logged warning) instead of refusing them with 400 (default false, as OpenAI
    /// refuses). Image tokens are never cut.
    /// </summary>
    public bool TruncateLongInputs { get; init; }

    /// <summary>
    /// Most inputs admitted and not finished yet, over all requests (default 4,096). A request that would go over is
    /// answered 429 with <c>Retry-After</c>.
    /// </summary>
    public int MaxQueuedItems { get; init; } = 4096;

    /// <summary>Throws when a limit is not positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is zero or negative.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRequestBodyBytes, 1, nameof(MaxRequestBodyBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxItemsPerRequest, 1, nameof(MaxItemsPerRequest));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxImagesPerRequest, 0, nameof(MaxImagesPerRequest));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxImageBytes, 1, nameof(MaxImageBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxImagePixels, 1, nameof(MaxImagePixels));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTextLength, 1, nameof(MaxTextLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInputTokens ?? 1, 1, nameof(MaxInputTokens));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedItems, 1, nameof(MaxQueuedItems));
    }
}
