namespace Vlm2Vec.Extensions.AI;

/// <summary>Downloads http(s) images with a byte cap checked while reading, so an oversized body is never held whole.</summary>
internal sealed class RemoteImageDownloader
{
    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = TimeSpan.FromSeconds(100) });

    private readonly HttpClient? _client;
    private readonly long _maxBytes;

    public RemoteImageDownloader(HttpClient? client, long maxBytes)
    {
        _client = client;
        _maxBytes = maxBytes;
    }

    /// <exception cref="ImageDecodeException">The request failed, the status is not a success, or the body is over the cap.</exception>
    public async Task<byte[]> DownloadAsync(Uri uri, CancellationToken cancellationToken)
    {
        var client = _client ?? SharedClient.Value;
        try
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new ImageDecodeException(ImageErrorKind.Unreadable, uri.ToString(), $"Image '{uri}' could not be downloaded: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
            }

            if (response.Content.Headers.ContentLength is long declared && declared > _maxBytes)
            {
                throw TooLarge(uri, declared);
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream();
                var chunk = new byte[81920];
                int read;
                while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > _maxBytes)
                    {
                        throw TooLarge(uri, buffer.Length + read);
                    }

                    buffer.Write(chunk, 0, read);
                }

                return buffer.ToArray();
            }
        }
        catch (HttpRequestException ex)
        {
            throw new ImageDecodeException(ImageErrorKind.Unreadable, uri.ToString(), $"Image '{uri}' could not be downloaded: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ImageDecodeException(ImageErrorKind.Unreadable, uri.ToString(), $"Downloading image '{uri}' timed out.", ex);
        }
    }

    private ImageDecodeException TooLarge(Uri uri, long length) => new(
        ImageErrorKind.TooManyBytes,
        uri.ToString(),
        $"Image '{uri}' is at least {length:N0} bytes; the limit is {_maxBytes:N0} bytes (MaxImageBytes).");
}
