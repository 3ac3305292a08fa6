using Microsoft.Extensions.Logging;
using Microsoft.ML.Runtime;

namespace Vlm2Vec.ML;

/// <summary>
/// Routes the engines' and the preprocessing's <see cref="ILogger"/> messages (truncation warnings, batch retries,
/// provider fallbacks) to an ML.NET host, so they appear on <c>MLContext.Log</c> like ML.NET's own. A model is shared by
/// every transformer that uses it, so its messages go to the host of the transformer that opened it.
/// </summary>
internal sealed class HostLoggerFactory(IHost host) : ILoggerFactory
{
    /// <summary>The category of the <see cref="Vlm2VecEmbedder"/>'s logger.</summary>
    public const string EmbedderCategory = "Vlm2VecEmbedder";

    /// <summary>
    /// The embedder's "input n was not embedded" event: the transformer reports those rows itself, by row position
    /// (n is only the row's place in one read), so the embedder's copy is left out.
    /// </summary>
    private const int EmbedderItemFailedEvent = 12;

    public ILogger CreateLogger(string categoryName) => new HostLogger(host, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("Messages go to the ML.NET host; providers cannot be added.");

    public void Dispose()
    {
    }

    private sealed class HostLogger(IHost host, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || (eventId.Id == EmbedderItemFailedEvent && category == EmbedderCategory))
            {
                return;
            }

            var message = $"{category}: {formatter(state, exception)}";
            using var channel = host.Start("Vlm2Vec");
            switch (logLevel)
            {
                case LogLevel.Debug:
                    channel.Trace(MessageSensitivity.None, message);
                    break;
                case LogLevel.Information:
                    channel.Info(MessageSensitivity.None, message);
                    break;
                case LogLevel.Warning:
                    channel.Warning(MessageSensitivity.None, message);
                    break;
                default:
                    channel.Error(MessageSensitivity.None, message);
                    break;
            }
        }
    }
}
