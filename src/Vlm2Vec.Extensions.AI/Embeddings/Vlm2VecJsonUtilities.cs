using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Vlm2Vec.Extensions.AI;

/// <summary>
/// JSON options that know <see cref="Vlm2VecContent"/>, for the middleware that serialises inputs (the distributed
/// cache hashes them into its key; logging writes them at trace level).
/// </summary>
public static class Vlm2VecJsonUtilities
{
    /// <summary>The type discriminator <see cref="Vlm2VecContent"/> is registered under (<c>"$type": "vlm2vec"</c>).</summary>
    public const string ContentTypeDiscriminator = "vlm2vec";

    private static readonly Lazy<JsonSerializerOptions> Default = new(() =>
    {
        var options = new JsonSerializerOptions(AIJsonUtilities.DefaultOptions);
        options.AddVlm2VecContentTypes();
        options.MakeReadOnly();
        return options;
    });

    /// <summary>
    /// <see cref="AIJsonUtilities.DefaultOptions"/> plus <see cref="Vlm2VecContent"/> (read-only). Pass it to
    /// <c>UseDistributedCache(configure: c =&gt; c.JsonSerializerOptions = …)</c> and
    /// <c>UseLogging(configure: l =&gt; l.JsonSerializerOptions = …)</c>.
    /// </summary>
    public static JsonSerializerOptions DefaultOptions => Default.Value;

    /// <summary>Registers <see cref="Vlm2VecContent"/> as an <see cref="AIContent"/> type on <paramref name="options"/> (which must not be read-only yet).</summary>
    /// <returns><paramref name="options"/>.</returns>
    public static JsonSerializerOptions AddVlm2VecContentTypes(this JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddAIContentType<Vlm2VecContent>(ContentTypeDiscriminator);
        return options;
    }
}
