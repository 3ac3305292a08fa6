using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Vlm2Vec.Server.Protocol;

/// <summary>
/// Writes the <c>/v1/embeddings</c> answer, <c>{"object":"list","data":[{"object":"embedding","index":i,"embedding":...}],
/// "model":...,"usage":{...}}</c>, straight into the response pipe: vectors as JSON numbers (shortest round-trip form)
/// or as base64 of their little-endian float32 bytes.
/// </summary>
internal static class EmbeddingResponseWriter
{
    private const int FlushEvery = 32;

    public static async Task WriteAsync(
        HttpResponse response, string model, IReadOnlyList<float[]> vectors, EmbeddingEncodingFormat format, long promptTokens, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        var pipe = response.BodyWriter;
        await using var writer = new Utf8JsonWriter(pipe);
        writer.WriteStartObject();
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        for (var i = 0; i < vectors.Count; i++)
        {
            writer.WriteStartObject();
            writer.WriteString("object", "embedding");
            writer.WriteNumber("index", i);
            writer.WritePropertyName("embedding");
            if (format == EmbeddingEncodingFormat.Base64)
            {
                WriteBase64(writer, vectors[i]);
            }
            else
            {
                writer.WriteStartArray();
                foreach (var value in vectors[i])
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            if ((i + 1) % FlushEvery == 0)
            {
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                await pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        writer.WriteEndArray();
        writer.WriteString("model", model);
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", promptTokens);
        writer.WriteNumber("total_tokens", promptTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the little-endian float32 bytes of <paramref name="vector"/> as one base64 string.</summary>
    internal static void WriteBase64(Utf8JsonWriter writer, float[] vector)
    {
        if (BitConverter.IsLittleEndian)
        {
            writer.WriteBase64StringValue(MemoryMarshal.AsBytes(vector.AsSpan()));
            return;
        }

        var bytes = ArrayPool<byte>.Shared.Rent(vector.Length * sizeof(float));
        try
        {
            for (var i = 0; i < vector.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
            }

            writer.WriteBase64StringValue(bytes.AsSpan(0, vector.Length * sizeof(float)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
