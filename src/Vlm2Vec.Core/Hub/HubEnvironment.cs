namespace Vlm2Vec.Hub;

/// <summary>
/// The environment variables <c>huggingface_hub</c> reads (<c>constants.py</c>), resolved the same way so that .NET and
/// Python share one cache, one login and one offline switch.
/// </summary>
internal sealed class HubEnvironment
{
    private readonly Func<string, string?> _getVariable;
    private readonly string _homeFolder;

    public HubEnvironment(Func<string, string?> getVariable, string homeFolder)
    {
        _getVariable = getVariable;
        _homeFolder = homeFolder;
    }

    /// <summary>The current process's environment.</summary>
    public static HubEnvironment Process { get; } = new(
        Environment.GetEnvironmentVariable,
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary><c>HF_ENDPOINT</c> without its trailing slash, else the public hub.</summary>
    public string Endpoint => (Get("HF_ENDPOINT") ?? HubClientOptions.DefaultEndpoint).TrimEnd('/');

    /// <summary><c>HF_HOME</c>, else <c>$XDG_CACHE_HOME/huggingface</c>, else <c>~/.cache/huggingface</c>.</summary>
    public string HfHome => ExpandHome(Get("HF_HOME")) ??
                            Path.Combine(ExpandHome(Get("XDG_CACHE_HOME")) ?? Path.Combine(_homeFolder, ".cache"), "huggingface");

    /// <summary><c>HF_HUB_CACHE</c> (or the older <c>HUGGINGFACE_HUB_CACHE</c>), else <c>$HF_HOME/hub</c>.</summary>
    public string HubCache => ExpandHome(Get("HF_HUB_CACHE")) ?? ExpandHome(Get("HUGGINGFACE_HUB_CACHE")) ?? Path.Combine(HfHome, "hub");

    /// <summary><c>HF_TOKEN_PATH</c>, else <c>$HF_HOME/token</c> (the file <c>hf auth login</c> writes).</summary>
    public string TokenPath => ExpandHome(Get("HF_TOKEN_PATH")) ?? Path.Combine(HfHome, "token");

    /// <summary><c>HF_HUB_OFFLINE</c> (or <c>TRANSFORMERS_OFFLINE</c>) is one of 1/true/yes/on.</summary>
    public bool Offline => IsTrue(Get("HF_HUB_OFFLINE") ?? Get("TRANSFORMERS_OFFLINE"));

    /// <summary><c>HF_HUB_DISABLE_SYMLINKS</c>: snapshot entries become copies instead of symlinks to blobs.</summary>
    public bool DisableSymlinks => IsTrue(Get("HF_HUB_DISABLE_SYMLINKS"));

    /// <summary><c>HF_TOKEN</c> (or the older <c>HUGGING_FACE_HUB_TOKEN</c>), else the token file's content, else none.</summary>
    public string? ReadToken()
    {
        var fromVariable = Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN");
        if (fromVariable is not null)
        {
            return fromVariable.Trim();
        }

        var path = TokenPath;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            var token = File.ReadAllText(path).Trim();
            return token.Length == 0 ? null : token;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private string? Get(string name)
    {
        var value = _getVariable(name);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    private string? ExpandHome(string? path)
    {
        if (path is null)
        {
            return null;
        }

        if (path == "~")
        {
            return _homeFolder;
        }

        return path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal)
            ? Path.Combine(_homeFolder, path[2..])
            : path;
    }

    private static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";
}
