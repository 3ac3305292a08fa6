using Microsoft.Extensions.Logging;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// The file-backed databases open in this process, by full path, with reference counts: every
/// <see cref="Vlm2VecVectorStore"/> opened on the same file shares one <see cref="VectorDatabase"/> (one SQLite
/// connection, one in-memory index), so two instances never disagree and the exclusive file lock is taken once. The
/// database closes when the last store on it is disposed.
/// </summary>
internal static class VectorDatabaseRegistry
{
    private static readonly Lock Sync = new();
    private static readonly Dictionary<string, (VectorDatabase Database, int References)> Open = new(PathComparer);

    private static StringComparer PathComparer => OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>Returns the shared database for <paramref name="path"/>, opening it on first use.</summary>
    public static VectorDatabase Acquire(string path, Vlm2VecVectorStoreDurability durability, TimeSpan lockTimeout, ILogger? logger)
    {
        var fullPath = Path.GetFullPath(path);
        lock (Sync)
        {
            if (Open.TryGetValue(fullPath, out var entry))
            {
                Open[fullPath] = (entry.Database, entry.References + 1);
                return entry.Database;
            }

            if (Path.GetDirectoryName(fullPath) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }

            var database = new VectorDatabase(fullPath, durability, lockTimeout, logger);
            Open[fullPath] = (database, 1);
            return database;
        }
    }

    /// <summary>Drops one reference; the last one closes the database.</summary>
    public static void Release(VectorDatabase database)
    {
        lock (Sync)
        {
            if (database.Path is null || !Open.TryGetValue(database.Path, out var entry) || !ReferenceEquals(entry.Database, database))
            {
                return;
            }

            if (entry.References > 1)
            {
                Open[database.Path] = (database, entry.References - 1);
                return;
            }

            Open.Remove(database.Path);
            database.Dispose();
        }
    }
}
