using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vlm2Vec.Cli.Search;

/// <summary>The embedder's logger for verbs that report failed items themselves (with a file name or line number).</summary>
internal static class EmbedderLogging
{
    /// <summary>
    /// The embedder's own "input N was not embedded" warnings would repeat, by input index, what embed, index and demo
    /// report by line or file; they are kept for <c>--verbose</c> only.
    /// </summary>
    public static ILogger For(CliContext context) =>
        context.Verbose ? context.CreateLogger("Vlm2Vec.Embedder") : NullLogger.Instance;
}
