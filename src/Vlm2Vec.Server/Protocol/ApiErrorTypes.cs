namespace Vlm2Vec.Server.Protocol;

/// <summary>The <c>error.type</c> values the server uses (OpenAI's vocabulary).</summary>
internal static class ApiErrorTypes
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string RateLimit = "rate_limit_error";
    public const string Server = "server_error";
}
