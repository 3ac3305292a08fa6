using System.Globalization;
using System.Text;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// The child process of the crash-safety test: upserts numbered batches into a file-backed store in a loop and prints
/// <c>ACK {batch}</c> after each upsert returned, until killed.
/// </summary>
internal static class CrashWriter
{
    public const string Command = "crash-writer";

    public const string CollectionName = "crash";

    public const int Dimensions = 256;

    /// <summary>The definition both sides use.</summary>
    public static VectorStoreCollectionDefinition Definition => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(CrashRecord.Key), typeof(string)),
            new VectorStoreDataProperty(nameof(CrashRecord.Batch), typeof(int)) { IsIndexed = true },
            new VectorStoreDataProperty(nameof(CrashRecord.Item), typeof(int)),
            new VectorStoreVectorProperty(nameof(CrashRecord.Vector), typeof(ReadOnlyMemory<float>), Dimensions),
        ],
    };

    public static string KeyOf(int batch, int item) => string.Create(CultureInfo.InvariantCulture, $"b{batch}-r{item}");

    public static float[] VectorOf(int batch, int item) => FakeVectors.FromBytes(Encoding.UTF8.GetBytes(KeyOf(batch, item)), Dimensions);

    public static IEnumerable<CrashRecord> Batch(int batch, int size) =>
        Enumerable.Range(0, size).Select(item => new CrashRecord { Key = KeyOf(batch, item), Batch = batch, Item = item, Vector = VectorOf(batch, item) });

    /// <summary>Args: database path, first batch number, batch size.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var path = args[0];
        var first = int.Parse(args[1], CultureInfo.InvariantCulture);
        var size = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var store = new Vlm2VecVectorStore(path);
        var collection = store.GetCollection<string, CrashRecord>(CollectionName, Definition);
        await collection.EnsureCollectionExistsAsync();
        var stdout = Console.Out;
        await stdout.WriteLineAsync("READY");
        await stdout.FlushAsync();
        for (var batch = first; batch < first + 100_000; batch++)
        {
            await collection.UpsertAsync(Batch(batch, size));
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ACK {batch}"));
            await stdout.FlushAsync();
        }

        return 0;
    }
}

/// <summary>The crash test's record.</summary>
public sealed class CrashRecord
{
    public string Key { get; set; } = string.Empty;

    public int Batch { get; set; }

    public int Item { get; set; }

    public ReadOnlyMemory<float> Vector { get; set; }
}
