using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// The SQLite side of a file-backed store: one database file, a catalog table naming the collections and their schemas,
/// and one table per collection <c>vlm2vec_data_{id}(key PRIMARY KEY, data TEXT (JSON), v0 BLOB, v1 BLOB, …)</c> with
/// vectors as little-endian float32 BLOBs.
/// <para>
/// Crash safety: WAL journal, one transaction per batch (a killed process leaves either the whole batch or none of
/// it), <c>synchronous=FULL</c> by default (a commit is on disk before the call returns). The connection holds an
/// exclusive lock (<c>locking_mode=EXCLUSIVE</c>) for its lifetime, so no other process can change the file behind the
/// in-memory index; within a process every store instance shares this one connection (see <see cref="VectorDatabase"/>).
/// Not thread-safe: the database's write gate serialises all calls.
/// </para>
/// </summary>
internal sealed class SqlitePersistence : IDisposable
{
    /// <summary>The file format version (<c>PRAGMA user_version</c>).</summary>
    private const int FileFormatVersion = 1;

    /// <summary>
    /// Page size of new files. Vector rows are a few KiB: with 4 or 8 KiB pages a 1536-d row (6 KiB) takes a leaf page
    /// of its own plus overflow (8.2 KiB on disk per row, measured); 32 KiB pages pack five such rows (6.6 KiB per row).
    /// </summary>
    private const int NewFilePageSize = 32768;

    private const string CatalogTable = "vlm2vec_collections";

    private readonly SqliteConnection _connection;

    public SqlitePersistence(string path, Vlm2VecVectorStoreDurability durability, TimeSpan lockTimeout)
    {
        Path = path;
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(lockTimeout.TotalSeconds)),
        };
        _connection = new SqliteConnection(builder.ToString());
        try
        {
            _connection.Open();
            Execute("PRAGMA locking_mode=EXCLUSIVE;");

            // A first read: fails fast on a file that is not a database or that another process holds.
            var isNew = Scalar<long>("SELECT count(*) FROM sqlite_master;") == 0;
            if (isNew)
            {
                Execute($"PRAGMA page_size={NewFilePageSize};");
            }
            var journal = Scalar<string>("PRAGMA journal_mode=WAL;");
            if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"SQLite refused WAL journal mode for '{path}' (got '{journal}').");
            }

            Execute(durability == Vlm2VecVectorStoreDurability.ProcessCrash ? "PRAGMA synchronous=NORMAL;" : "PRAGMA synchronous=FULL;");
            var version = Scalar<long>("PRAGMA user_version;");
            if (version > FileFormatVersion)
            {
                throw new InvalidDataException($"'{path}' has store format version {version}; this library reads up to {FileFormatVersion}.");
            }

            // A write: takes the exclusive lock, which locking_mode=EXCLUSIVE then keeps until the connection closes.
            using var transaction = _connection.BeginTransaction();
            Execute($"CREATE TABLE IF NOT EXISTS {CatalogTable} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, schema TEXT NOT NULL);", transaction);
            Execute($"PRAGMA user_version={FileFormatVersion};", transaction);
            transaction.Commit();
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    public string Path { get; }

    /// <summary>The collections the file holds.</summary>
    public List<(long Id, string Name, CollectionSchema Schema)> ReadCatalog()
    {
        var result = new List<(long, string, CollectionSchema)>();
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT id, name, schema FROM {CatalogTable} ORDER BY id;";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            result.Add((reader.GetInt64(0), reader.GetString(1), CollectionSchema.FromJson(reader.GetString(2))));
        }

        return result;
    }

    /// <summary>Creates a collection's catalog row and table in one transaction; returns its id.</summary>
    public long CreateCollection(string name, CollectionSchema schema)
    {
        using var transaction = _connection.BeginTransaction();
        using var insert = _connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = $"INSERT INTO {CatalogTable} (name, schema) VALUES ($name, $schema) RETURNING id;";
        insert.Parameters.AddWithValue("$name", name);
        insert.Parameters.AddWithValue("$schema", schema.ToJson());
        var id = (long)insert.ExecuteScalar()!;

        var keyType = schema.KeyKind == StoredKeyKind.Int64 ? "INTEGER" : "TEXT";
        var columns = new StringBuilder();
        for (var i = 0; i < schema.VectorFields.Count; i++)
        {
            columns.Append(CultureInfo.InvariantCulture, $", v{i} BLOB");
        }

        Execute($"CREATE TABLE {TableName(id)} (key {keyType} PRIMARY KEY NOT NULL, data TEXT NOT NULL{columns});", transaction);
        transaction.Commit();
        return id;
    }

    /// <summary>Replaces a collection's schema in the catalog.</summary>
    public void UpdateSchema(long id, CollectionSchema schema)
    {
        using var transaction = _connection.BeginTransaction();
        using var update = _connection.CreateCommand();
        update.Transaction = transaction;
        update.CommandText = $"UPDATE {CatalogTable} SET schema = $schema WHERE id = $id;";
        update.Parameters.AddWithValue("$schema", schema.ToJson());
        update.Parameters.AddWithValue("$id", id);
        update.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>Drops a collection's table and catalog row in one transaction.</summary>
    public void DropCollection(long id)
    {
        using var transaction = _connection.BeginTransaction();
        Execute($"DROP TABLE IF EXISTS {TableName(id)};", transaction);
        using var delete = _connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = $"DELETE FROM {CatalogTable} WHERE id = $id;";
        delete.Parameters.AddWithValue("$id", id);
        delete.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>Writes a batch of rows in one transaction (insert or replace by key). Cancellation before the commit writes nothing.</summary>
    public void Upsert(long id, CollectionSchema schema, IReadOnlyList<PendingRow> rows, CancellationToken cancellationToken)
    {
        using var transaction = _connection.BeginTransaction();
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        var vectorCount = schema.VectorFields.Count;
        var columns = new StringBuilder("key, data");
        var values = new StringBuilder("$key, $data");
        var updates = new StringBuilder("data = excluded.data");
        for (var i = 0; i < vectorCount; i++)
        {
            columns.Append(CultureInfo.InvariantCulture, $", v{i}");
            values.Append(CultureInfo.InvariantCulture, $", $v{i}");
            updates.Append(CultureInfo.InvariantCulture, $", v{i} = excluded.v{i}");
        }

        command.CommandText = $"INSERT INTO {TableName(id)} ({columns}) VALUES ({values}) ON CONFLICT(key) DO UPDATE SET {updates};";
        var keyParameter = command.Parameters.Add("$key", schema.KeyKind == StoredKeyKind.Int64 ? SqliteType.Integer : SqliteType.Text);
        var dataParameter = command.Parameters.Add("$data", SqliteType.Text);
        var vectorParameters = new SqliteParameter[vectorCount];
        for (var i = 0; i < vectorCount; i++)
        {
            vectorParameters[i] = command.Parameters.Add($"$v{i}", SqliteType.Blob);
        }

        command.Prepare();
        var json = new ArrayBufferWriter<byte>(256);
        foreach (var row in rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            keyParameter.Value = KeyToSql(row.Key);
            dataParameter.Value = DataToJson(schema, row.Data, json);
            for (var i = 0; i < vectorCount; i++)
            {
                var vector = i < row.Vectors.Length ? row.Vectors[i] : default;
                vectorParameters[i].Value = vector.IsEmpty ? DBNull.Value : VectorToBlob(vector.Span);
            }

            command.ExecuteNonQuery();
        }

        cancellationToken.ThrowIfCancellationRequested();
        transaction.Commit();
    }

    /// <summary>Deletes rows by key in one transaction; missing keys are ignored.</summary>
    public void Delete(long id, IReadOnlyList<object> keys, CancellationToken cancellationToken)
    {
        using var transaction = _connection.BeginTransaction();
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"DELETE FROM {TableName(id)} WHERE key = $key;";
        var keyParameter = command.Parameters.Add("$key", SqliteType.Text);
        command.Prepare();
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            keyParameter.SqliteType = key is long ? SqliteType.Integer : SqliteType.Text;
            keyParameter.Value = KeyToSql(key);
            command.ExecuteNonQuery();
        }

        cancellationToken.ThrowIfCancellationRequested();
        transaction.Commit();
    }

    /// <summary>Reads every row of a collection into <paramref name="target"/>.</summary>
    /// <exception cref="InvalidDataException">A row cannot be read (a vector BLOB of the wrong size, a bad key).</exception>
    public void Load(long id, CollectionSchema schema, CollectionStorage target)
    {
        var vectorCount = schema.VectorFields.Count;
        var columns = new StringBuilder("key, data");
        for (var i = 0; i < vectorCount; i++)
        {
            columns.Append(CultureInfo.InvariantCulture, $", v{i}");
        }

        var fieldIndexes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < schema.DataFields.Count; i++)
        {
            fieldIndexes[schema.DataFields[i].Name] = i;
        }

        var vectorBuffers = new float[vectorCount][];
        for (var i = 0; i < vectorCount; i++)
        {
            vectorBuffers[i] = new float[schema.VectorFields[i].Dimensions];
        }

        var byteBuffer = new byte[schema.VectorFields.Count == 0 ? 0 : schema.VectorFields.Max(v => v.Dimensions) * sizeof(float)];
        var vectors = new ReadOnlyMemory<float>[vectorCount];
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT {columns} FROM {TableName(id)};";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var key = KeyFromSql(schema.KeyKind, reader);
            var data = DataFromJson(schema, fieldIndexes, reader.GetString(1));
            for (var i = 0; i < vectorCount; i++)
            {
                var column = 2 + i;
                if (reader.IsDBNull(column))
                {
                    vectors[i] = default;
                    continue;
                }

                var expected = schema.VectorFields[i].Dimensions * sizeof(float);
                var length = reader.GetBytes(column, 0, null, 0, 0);
                if (length != expected)
                {
                    throw new InvalidDataException(
                        $"Row '{key}' of collection table {TableName(id)} has a {length}-byte vector '{schema.VectorFields[i].Name}'; {expected} bytes were expected.");
                }

                reader.GetBytes(column, 0, byteBuffer, 0, expected);
                BlobToVector(byteBuffer.AsSpan(0, expected), vectorBuffers[i]);
                vectors[i] = vectorBuffers[i];
            }

            target.Load(key, data, vectors);
        }
    }

    /// <summary>Runs <c>PRAGMA integrity_check</c> and returns its first line ("ok" when the file is sound).</summary>
    public string IntegrityCheck() => Scalar<string>("PRAGMA integrity_check;") ?? "no answer";

    public void Dispose() => _connection.Dispose();

    private static string TableName(long id) => string.Create(CultureInfo.InvariantCulture, $"vlm2vec_data_{id}");

    private static object KeyToSql(object key) => key switch
    {
        Guid guid => guid.ToString("D"),
        _ => key,
    };

    private static object KeyFromSql(StoredKeyKind kind, SqliteDataReader reader) => kind switch
    {
        StoredKeyKind.Int64 => reader.GetInt64(0),
        StoredKeyKind.Guid => Guid.TryParseExact(reader.GetString(0), "D", out var guid)
            ? guid
            : throw new InvalidDataException($"Key '{reader.GetString(0)}' is not a Guid."),
        _ => reader.GetString(0),
    };

    private static string DataToJson(CollectionSchema schema, object?[] data, ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            for (var i = 0; i < data.Length && i < schema.DataFields.Count; i++)
            {
                if (data[i] is { } value)
                {
                    writer.WritePropertyName(schema.DataFields[i].Name);
                    schema.DataFields[i].Type.WriteJson(writer, value);
                }
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static object?[] DataFromJson(CollectionSchema schema, Dictionary<string, int> fieldIndexes, string json)
    {
        object?[] data = schema.DataFields.Count == 0 ? [] : new object?[schema.DataFields.Count];
        using var document = JsonDocument.Parse(json);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (fieldIndexes.TryGetValue(property.Name, out var index))
            {
                data[index] = schema.DataFields[index].Type.ReadJson(property.Value);
            }
        }

        return data;
    }

    private static byte[] VectorToBlob(ReadOnlySpan<float> vector)
    {
        var blob = MemoryMarshal.AsBytes(vector).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<byte, int>(blob.AsSpan());
            BinaryPrimitives.ReverseEndianness(words, words);
        }

        return blob;
    }

    private static void BlobToVector(ReadOnlySpan<byte> blob, Span<float> vector)
    {
        blob.CopyTo(MemoryMarshal.AsBytes(vector));
        if (!BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<float, int>(vector);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }

    private void Execute(string sql, SqliteTransaction? transaction = null)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private T? Scalar<T>(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is null or DBNull ? default : (T)value;
    }
}
