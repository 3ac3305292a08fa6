using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Vlm2Vec.Server.Protocol;

/// <summary>Writes <see cref="ApiException"/>s as OpenAI error JSON with their status, <c>Retry-After</c> and <c>WWW-Authenticate</c>.</summary>
internal static class ApiErrorWriter
{
    public static async Task WriteAsync(HttpContext context, ApiException error, int retryAfterSeconds)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            // Too late for a status: cut the connection so the client sees a failure, not a truncated 200.
            context.Abort();
            return;
        }

        response.Clear();
        response.StatusCode = error.StatusCode;
        response.ContentType = "application/json";
        if (error.Retryable)
        {
            response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        if (error.StatusCode == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        if (error.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // The rest of a refused body is not read; don't keep the connection for it.
            response.Headers.Connection = "close";
        }

        // Relaxed escaping keeps quotes and apostrophes readable in messages (the body is JSON, never HTML).
        await using var writer = new Utf8JsonWriter(response.Body, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", error.Message);
        writer.WriteString("type", error.Type);
        WriteNullable(writer, "param", error.Param);
        WriteNullable(writer, "code", error.Code);
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
