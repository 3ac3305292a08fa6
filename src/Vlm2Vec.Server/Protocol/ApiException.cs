namespace Vlm2Vec.Server.Protocol;

/// <summary>
/// A request the server answers with an OpenAI-shaped error: <c>{"error":{"message","type","param","code"}}</c> and
/// <see cref="StatusCode"/>. Thrown anywhere in request handling; written once by the endpoint wrapper.
/// </summary>
internal sealed class ApiException : Exception
{
    public ApiException()
    {
        Type = ApiErrorTypes.InvalidRequest;
    }

    public ApiException(string message)
        : base(message)
    {
        Type = ApiErrorTypes.InvalidRequest;
    }

    public ApiException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Type = ApiErrorTypes.InvalidRequest;
    }

    public ApiException(int statusCode, string type, string? code, string message, string? param = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Type = type;
        Code = code;
        Param = param;
    }

    /// <summary>The HTTP status (400 by default).</summary>
    public int StatusCode { get; } = 400;

    /// <summary>OpenAI's error <c>type</c> (<c>invalid_request_error</c>, <c>rate_limit_error</c>, <c>server_error</c>...).</summary>
    public string Type { get; }

    /// <summary>A machine-readable code (<c>model_not_found</c>, <c>queue_full</c>...), or null.</summary>
    public string? Code { get; }

    /// <summary>The request field at fault (<c>input[3]</c>, <c>model</c>...), or null.</summary>
    public string? Param { get; }

    /// <summary>Whether the answer carries <c>Retry-After</c> (429 and 503).</summary>
    public bool Retryable => StatusCode is 429 or 503;

    public static ApiException BadRequest(string message, string? param = null, string? code = null, Exception? inner = null) =>
        new(400, ApiErrorTypes.InvalidRequest, code, message, param, inner);

    public static ApiException TooLarge(string message, string code, string? param = null, Exception? inner = null) =>
        new(413, ApiErrorTypes.InvalidRequest, code, message, param, inner);
}
