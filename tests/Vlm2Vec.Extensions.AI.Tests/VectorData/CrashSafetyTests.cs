using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Vlm2Vec.Extensions.AI.VectorData;
using Vlm2Vec.TestSupport;
using Xunit.Abstractions;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// Starts this test assembly as a real child process (<see cref="CrashWriter"/>) that upserts batches in a loop, kills it
/// at a random moment (SIGKILL: no cleanup runs), then reopens the file and checks that it is sound and holds every
/// batch the child acknowledged, and that the batch in flight is all there or not at all. Repeated several times on the
/// same file.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output)
{
    private const int BatchSize = 200;
    private const int Rounds = 5;

    [Fact]
    public async Task Killed_writer_loses_no_acknowledged_batch_and_never_corrupts_the_file()
    {
        using var folder = new TempFolder("vlm2vec-crash");
        var path = folder.Combine("crash.db");
        var random = new Random(20240607);
        var acknowledged = new List<int>();
        var nextBatch = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var (acks, startedAt) = await RunAndKillAsync(path, nextBatch, random);
            Assert.NotEmpty(acks);
            Assert.Equal(Enumerable.Range(nextBatch, acks.Count), acks);
            acknowledged.AddRange(acks);
            var inFlight = acks[^1] + 1;

            Assert.Equal("ok", IntegrityCheck(path));
            using (var store = new Vlm2VecVectorStore(path))
            {
                var collection = store.GetCollection<string, CrashRecord>(CrashWriter.CollectionName, CrashWriter.Definition);
                foreach (var batch in acknowledged)
                {
                    var keys = Enumerable.Range(0, BatchSize).Select(item => CrashWriter.KeyOf(batch, item)).ToList();
                    var records = await collection.GetAsync(keys, new() { IncludeVectors = true }).ToListAsync();
                    Assert.Equal(BatchSize, records.Count);
                    var sample = records.Single(r => r.Item == batch % BatchSize);
                    Assert.Equal(batch, sample.Batch);
                    Assert.Equal(CrashWriter.VectorOf(batch, sample.Item), sample.Vector.ToArray());
                }

                var inFlightKeys = Enumerable.Range(0, BatchSize).Select(item => CrashWriter.KeyOf(inFlight, item)).ToList();
                var inFlightCount = await collection.GetAsync(inFlightKeys).CountAsync();
                Assert.True(inFlightCount is 0 or BatchSize, $"Batch {inFlight} was in flight when the writer died and is partly there ({inFlightCount} of {BatchSize} records).");
                var total = await collection.GetAsync(r => true, int.MaxValue).CountAsync();
                Assert.Equal((acknowledged.Count + (inFlightCount == BatchSize ? 1 : 0)) * BatchSize, total);
                if (inFlightCount == BatchSize)
                {
                    acknowledged.Add(inFlight);
                }
            }

            output.WriteLine($"round {round}: child ran {startedAt.TotalMilliseconds:0} ms after READY, acknowledged batches {acks[0]}..{acks[^1]}, in-flight batch {inFlight} {(acknowledged[^1] == inFlight ? "committed" : "absent")}");
            nextBatch = inFlight + 1;
        }

        Assert.True(acknowledged.Count >= Rounds);
    }

    private static string IntegrityCheck(string path)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false };
        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check;";
        return (string)command.ExecuteScalar()!;
    }

    private async Task<(List<int> Acks, TimeSpan RanFor)> RunAndKillAsync(string path, int firstBatch, Random random)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(CrashWriter).Assembly.Location);
        start.ArgumentList.Add(CrashWriter.Command);
        start.ArgumentList.Add(path);
        start.ArgumentList.Add(firstBatch.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(BatchSize.ToString(CultureInfo.InvariantCulture));

        using var child = Process.Start(start) ?? throw new InvalidOperationException("The writer process did not start.");
        var stderr = child.StandardError.ReadToEndAsync();
        var acks = new List<int>();
        Stopwatch? sinceReady = null;
        var killAfter = TimeSpan.FromMilliseconds(random.Next(100, 800));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            // Read the child's lines until the kill moment: a random time after READY, once it acknowledged a batch.
            var pending = child.StandardOutput.ReadLineAsync(timeout.Token).AsTask();
            while (true)
            {
                if (sinceReady is not null && acks.Count > 0)
                {
                    var remaining = killAfter - sinceReady.Elapsed;
                    if (remaining <= TimeSpan.Zero || await Task.WhenAny(pending, Task.Delay(remaining, timeout.Token)) != pending)
                    {
                        break;
                    }
                }

                var line = await pending
                    ?? throw new InvalidOperationException($"The writer exited early (code {(child.HasExited ? child.ExitCode : -1)}): {await stderr}");
                if (line == "READY")
                {
                    sinceReady = Stopwatch.StartNew();
                }

                Record(line, acks);
                pending = child.StandardOutput.ReadLineAsync(timeout.Token).AsTask();
            }

            child.Kill(entireProcessTree: true);
            await DrainAsync(pending, child, acks);
            return (acks, sinceReady!.Elapsed);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }

            await child.WaitForExitAsync(CancellationToken.None);
        }
    }

    /// <summary>After the kill: whatever the child printed before dying is still in the pipe; every such ACK counts.</summary>
    private static async Task DrainAsync(Task<string?> pending, Process child, List<int> acks)
    {
        await child.WaitForExitAsync(CancellationToken.None);
        for (var line = await pending; line is not null; line = await child.StandardOutput.ReadLineAsync())
        {
            Record(line, acks);
        }
    }

    private static void Record(string line, List<int> acks)
    {
        if (line.StartsWith("ACK ", StringComparison.Ordinal))
        {
            acks.Add(int.Parse(line.AsSpan(4), CultureInfo.InvariantCulture));
        }
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } processPath && Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            return processPath;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
        {
            return Path.Combine(root, "dotnet");
        }

        return "dotnet";
    }
}
