using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Vlm2Vec.Server.Hosting;

/// <summary>
/// Checks the API key of a request against the configured keys in constant time: both sides are hashed with SHA-256
/// (so lengths leak nothing) and every configured key is compared, with no early exit.
/// </summary>
internal sealed class ApiKeyCheck
{
    private readonly byte[][] _keyHashes;

    public ApiKeyCheck(Vlm2VecServerOptions options)
    {
        _keyHashes = new byte[options.ApiKeys.Count][];
        for (var i = 0; i < _keyHashes.Length; i++)
        {
            _keyHashes[i] = SHA256.HashData(Encoding.UTF8.GetBytes(options.ApiKeys[i]));
        }
    }

    public bool Enabled => _keyHashes.Length > 0;

    /// <summary>Whether the request may pass: no key configured, or a configured key in <c>Authorization: Bearer</c> or <c>api-key</c>.</summary>
    public bool IsAuthorized(HttpRequest request)
    {
        if (!Enabled)
        {
            return true;
        }

        var presented = PresentedKey(request);
        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), hash);
        var match = false;
        foreach (var keyHash in _keyHashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, keyHash);
        }

        return match;
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return authorization[Bearer.Length..].Trim();
        }

        var apiKey = request.Headers["api-key"].ToString();
        return apiKey.Length > 0 ? apiKey.Trim() : null;
    }
}
