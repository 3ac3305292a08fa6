namespace Vlm2Vec.Server.Protocol;

/// <summary>How vectors are written in the response (<c>encoding_format</c>).</summary>
internal enum EmbeddingEncodingFormat
{
    /// <summary>A JSON array of numbers (OpenAI's default).</summary>
    Float,

    /// <summary>A base64 string of the little-endian float32 bytes (what the OpenAI SDKs ask for).</summary>
    Base64,
}
