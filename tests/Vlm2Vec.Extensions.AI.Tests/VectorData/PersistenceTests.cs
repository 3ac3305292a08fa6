using System.Buffers.Binary;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>The SQLite file: its format, sharing within a process, exclusivity across connections, and refusal of files it cannot read.</summary>
public sealed class PersistenceTests : IDisposable
{
    private readonly TempFolder _folder = new("vlm2vec-persist");

    private string StorePath => _folder.Combine("nested", "folder", "store.db");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_file_holds_little_endian_float32_blobs_and_json_data()
    {
        using (var store = new Vlm2VecVectorStore(StorePath))
        {
            var collection = store.GetCollection<string, Doc>("docs");
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync(new Doc { Key = "d1", Title = "Hello \"world\"", Year = 2024, Vector = new float[] { 1.5f, -2f, 3.25f } });
            Assert.Equal("ok", await store.CheckIntegrityAsync());
        }

        using var connection = OpenRaw();
        Assert.Equal("wal", Scalar<string>(connection, "PRAGMA journal_mode;"));
        Assert.Equal("ok", Scalar<string>(connection, "PRAGMA integrity_check;"));
        var schema = Scalar<string>(connection, "SELECT schema FROM vlm2vec_collections WHERE name = 'docs';");
        Assert.Contains("\"dimensions\":3", schema, StringComparison.Ordinal);
        var blob = Scalar<byte[]>(connection, "SELECT v0 FROM vlm2vec_data_1 WHERE key = 'd1';");
        Assert.Equal(12, blob.Length);
        Assert.Equal(-2f, BinaryPrimitives.ReadSingleLittleEndian(blob.AsSpan(4)));
        Assert.Equal("Hello \"world\"", Scalar<string>(connection, "SELECT json_extract(data, '$.title') FROM vlm2vec_data_1 WHERE key = 'd1';"));
        Assert.Equal(2024L, Scalar<long>(connection, "SELECT json_extract(data, '$.Year') FROM vlm2vec_data_1 WHERE key = 'd1';"));
    }

    [Fact]
    public async Task Stores_opened_on_the_same_file_share_data_at_once()
    {
        using var first = new Vlm2VecVectorStore(StorePath);
        using var second = new Vlm2VecVectorStore(StorePath);
        var writer = first.GetCollection<string, Doc>("docs");
        await writer.EnsureCollectionExistsAsync();

        await writer.UpsertAsync(new Doc { Key = "shared", Title = "seen by both", Vector = new float[] { 1, 0, 0 } });
        var reader = second.GetCollection<string, Doc>("docs");

        Assert.Equal("seen by both", (await reader.GetAsync("shared"))!.Title);
        first.Dispose();
        Assert.Equal("seen by both", (await reader.GetAsync("shared"))!.Title);
    }

    [Fact]
    public async Task The_file_is_locked_while_open_and_free_after_dispose()
    {
        using (var store = new Vlm2VecVectorStore(StorePath))
        {
            await store.GetCollection<string, Doc>("docs").EnsureCollectionExistsAsync();
            using var other = OpenRaw(timeoutSeconds: 1);
            var exception = Assert.Throws<SqliteException>(() => Scalar<long>(other, "SELECT count(*) FROM vlm2vec_collections;"));
            Assert.Equal(5, exception.SqliteErrorCode); // SQLITE_BUSY
        }

        using var after = OpenRaw();
        Assert.Equal(1L, Scalar<long>(after, "SELECT count(*) FROM vlm2vec_collections;"));
    }

    [Fact]
    public async Task Opening_a_file_locked_by_another_connection_fails_with_a_clear_error()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StorePath)!);
        using var holder = OpenRaw();
        Execute(holder, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);");

        var exception = Assert.Throws<VectorStoreException>(() => new Vlm2VecVectorStore(new Vlm2VecVectorStoreOptions { DatabasePath = StorePath, LockTimeout = TimeSpan.FromSeconds(1) }));

        Assert.Contains("in use by another process", exception.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StorePath)!);
        File.WriteAllText(StorePath, new string('x', 4096));

        var exception = Assert.Throws<VectorStoreException>(() => new Vlm2VecVectorStore(StorePath));

        Assert.Contains("could not be opened", exception.Message, StringComparison.Ordinal);
        Assert.Equal("Open", exception.OperationName);
    }

    [Fact]
    public void A_file_from_a_newer_format_is_refused()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StorePath)!);
        using (var connection = OpenRaw())
        {
            Execute(connection, "PRAGMA user_version = 99;");
        }

        var exception = Assert.Throws<VectorStoreException>(() => new Vlm2VecVectorStore(StorePath));

        Assert.Contains("format version 99", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_vector_blob_of_the_wrong_size_fails_the_load_naming_the_row()
    {
        using (var store = new Vlm2VecVectorStore(StorePath))
        {
            var collection = store.GetCollection<string, Doc>("docs");
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync(new Doc { Key = "d1", Vector = new float[] { 1, 2, 3 } });
        }

        using (var connection = OpenRaw())
        {
            Execute(connection, "UPDATE vlm2vec_data_1 SET v0 = x'00000000' WHERE key = 'd1';");
        }

        using var reopened = new Vlm2VecVectorStore(StorePath);
        var exception = await Assert.ThrowsAsync<VectorStoreException>(() => reopened.GetCollection<string, Doc>("docs").GetAsync("d1"));

        Assert.Contains("Row 'd1'", exception.Message, StringComparison.Ordinal);
        Assert.Equal("docs", exception.CollectionName);
    }

    [Fact]
    public async Task Process_crash_durability_opens_and_persists()
    {
        using (var store = new Vlm2VecVectorStore(new Vlm2VecVectorStoreOptions { DatabasePath = StorePath, Durability = Vlm2VecVectorStoreDurability.ProcessCrash }))
        {
            var collection = store.GetCollection<string, Doc>("docs");
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync(new Doc { Key = "d1", Title = "kept", Vector = new float[] { 1, 2, 3 } });
        }

        using var reopened = new Vlm2VecVectorStore(StorePath);
        Assert.Equal("kept", (await reopened.GetCollection<string, Doc>("docs").GetAsync("d1"))!.Title);
    }

    private SqliteConnection OpenRaw(int timeoutSeconds = 5)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = StorePath, Pooling = false, DefaultTimeout = timeoutSeconds };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        return connection;
    }

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public sealed class Doc
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData(StorageName = "title")]
        public string? Title { get; set; }

        [VectorStoreData]
        public int Year { get; set; }

        [VectorStoreVector(3)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }
}
