using System.Collections.Concurrent;
using Microsoft.ML.Runtime;

namespace Vlm2Vec.ML;

/// <summary>
/// Where warnings about rows that were given NaN go. A transformer built in this process registers its ML.NET host, so
/// its warnings (and those of the same settings when reached through a row mapper) reach that <c>MLContext.Log</c>.
/// A model loaded with <c>Model.Load</c> has no such host (ML.NET does not hand one to custom mappings); its warnings
/// go to <see cref="System.Diagnostics.Trace"/>.
/// </summary>
internal static class RowErrorLog
{
    private static readonly ConcurrentDictionary<string, IHost> Hosts = new(StringComparer.Ordinal);

    public static void Register(string specJson, IHost host) => Hosts[specJson] = host;

    public static void Warning(string specJson, string message)
    {
        if (Hosts.TryGetValue(specJson, out var host))
        {
            using var channel = host.Start("Vlm2Vec embedding");
            channel.Warning(MessageSensitivity.None, message);
        }
        else
        {
            System.Diagnostics.Trace.TraceWarning("Vlm2Vec.ML: " + message);
        }
    }
}
