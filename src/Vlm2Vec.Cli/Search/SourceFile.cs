namespace Vlm2Vec.Cli.Search;

/// <summary>A file found under the indexed folder.</summary>
/// <param name="Key">Its path relative to the folder, with '/' separators (the store key).</param>
/// <param name="FullPath">Its absolute path.</param>
/// <param name="Kind">Image or text.</param>
internal sealed record SourceFile(string Key, string FullPath, SourceFileKind Kind)
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp"];
    private static readonly string[] TextExtensions = [".txt", ".md"];

    /// <summary>The kind of file <paramref name="path"/> names by its extension, or null when index ignores it.</summary>
    public static SourceFileKind? KindOf(string path)
    {
        var extension = System.IO.Path.GetExtension(path);
        if (ImageExtensions.Any(e => string.Equals(e, extension, StringComparison.OrdinalIgnoreCase)))
        {
            return SourceFileKind.Image;
        }

        return TextExtensions.Any(e => string.Equals(e, extension, StringComparison.OrdinalIgnoreCase)) ? SourceFileKind.Text : null;
    }

    /// <summary>Every image and text file under <paramref name="folder"/>, recursively, in ordinal key order.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<SourceFile> Scan(string folder, bool includeText = true)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Source folder '{folder}' does not exist. Give a folder of images (jpg, jpeg, png, gif, bmp, webp) and text files (.txt, .md).");
        }

        var root = System.IO.Path.GetFullPath(folder);
        var files = new List<SourceFile>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        foreach (var path in Directory.EnumerateFiles(root, "*", options))
        {
            if (KindOf(path) is { } kind && (includeText || kind == SourceFileKind.Image))
            {
                var key = System.IO.Path.GetRelativePath(root, path).Replace(System.IO.Path.DirectorySeparatorChar, '/');
                files.Add(new SourceFile(key, path, kind));
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return files;
    }
}
