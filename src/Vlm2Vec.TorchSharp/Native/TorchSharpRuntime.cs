using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;

namespace Vlm2Vec.TorchSharp;

/// <summary>
/// Makes TorchSharp's native library load, including on Debian 12 / Ubuntu 22.04, whose libstdc++ lacks the
/// <c>GLIBCXX_3.4.32</c> version that TorchSharp 0.107's <c>libLibTorchSharp.so</c> asks for (for one symbol it never
/// binds). Every entry point of this library calls <see cref="EnsureLoaded"/>; call it yourself before using TorchSharp
/// directly.
/// </summary>
/// <remarks>
/// The fix: when loading the shipped library fails for exactly that reason, a copy is patched in a cache folder (the
/// version need is marked weak: two bytes) next to symbolic links to the other libtorch libraries, and loaded before
/// TorchSharp's first use; TorchSharp then binds to the already-loaded library. The package files are never modified,
/// and hosts whose libstdc++ is new enough (or that are not Linux x64) are left alone.
/// </remarks>
public static class TorchSharpRuntime
{
    private const string NativeName = "libLibTorchSharp.so";
    private const string MissingVersion = "GLIBCXX_3.4.32";
    private static readonly Lock Gate = new();
    private static bool s_loaded;
    private static string? s_description;

    /// <summary>How the native library was loaded (for diagnostics), once <see cref="EnsureLoaded"/> has run.</summary>
    public static string? LoadDescription => s_description;

    /// <summary>Loads libtorch once; throws <see cref="TorchSharpLoadException"/> with a clear reason when it cannot.</summary>
    public static void EnsureLoaded()
    {
        if (Volatile.Read(ref s_loaded))
        {
            return;
        }

        lock (Gate)
        {
            if (s_loaded)
            {
                return;
            }

            s_description = PreloadPatchedLibraryIfNeeded();
            try
            {
                // Forces TorchSharp's own native initialisation.
                _ = torch.__version__;
            }
            catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException or NotSupportedException)
            {
                throw new TorchSharpLoadException(
                    "libtorch could not be loaded (TorchSharp-cpu 0.107, libtorch 2.10). " + (s_description ?? string.Empty) +
                    " Check that the libtorch-cpu native package for this platform is referenced and that glibc is 2.34 or newer. Cause: " +
                    Innermost(ex).Message,
                    ex);
            }

            Volatile.Write(ref s_loaded, true);
        }
    }

    private static string? PreloadPatchedLibraryIfNeeded()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return null;
        }

        var original = FindShippedLibrary();
        if (original is null)
        {
            return "libLibTorchSharp.so was not found beside the application; TorchSharp's own search is used.";
        }

        string loadError;
        try
        {
            NativeLibrary.Load(original);
            return $"Loaded {original} as shipped.";
        }
        catch (DllNotFoundException ex)
        {
            loadError = ex.Message;
        }

        if (!loadError.Contains(MissingVersion, StringComparison.Ordinal))
        {
            throw new TorchSharpLoadException($"libtorch could not be loaded from {original}: {loadError}");
        }

        var patched = PreparePatchedCopy(original);
        try
        {
            NativeLibrary.Load(patched);
        }
        catch (DllNotFoundException ex)
        {
            throw new TorchSharpLoadException(
                $"The host's libstdc++ lacks {MissingVersion}; a patched copy of {NativeName} was made at {patched} but it did not load either: {ex.Message}",
                ex);
        }

        return $"Host libstdc++ lacks {MissingVersion}: loaded a patched copy {patched}.";
    }

    private static string? FindShippedLibrary()
    {
        var baseDir = AppContext.BaseDirectory;
        string[] candidates =
        [
            Path.Combine(baseDir, "runtimes", "linux-x64", "native", NativeName),
            Path.Combine(baseDir, NativeName),
        ];
        return candidates.FirstOrDefault(File.Exists);
    }

    private static string PreparePatchedCopy(string original)
    {
        var bytes = File.ReadAllBytes(original);
        var sourceFolder = Path.GetDirectoryName(original)!;

        // The cache folder is keyed by the library's content *and* the folder it came from: the links below point to
        // that folder's libtorch copies, and TorchSharp itself later loads libtorch_cpu from the application's own
        // folder. Two applications (or two checkouts) sharing one cache folder would otherwise load two distinct
        // copies of libtorch_cpu into one process, which aborts ("Tried to register multiple backend fallbacks").
        var contentKey = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        var folderKey = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sourceFolder)))[..8].ToLowerInvariant();
        var key = contentKey + "-" + folderKey;
        if (!ElfVersionNeeds.MarkWeak(bytes, MissingVersion))
        {
            throw new TorchSharpLoadException($"{original} failed to load for lack of {MissingVersion} but does not list it as a version need; cannot patch.");
        }

        var folder = Path.Combine(CacheRoot(), "torchsharp-native", key);
        Directory.CreateDirectory(folder);

        // The patched library finds its siblings through RUNPATH $ORIGIN: link them into the cache folder.
        foreach (var file in Directory.EnumerateFiles(sourceFolder))
        {
            var name = Path.GetFileName(file);
            var link = Path.Combine(folder, name);
            if (name == NativeName || File.Exists(link))
            {
                continue;
            }

            try
            {
                File.CreateSymbolicLink(link, file);
            }
            catch (IOException) when (File.Exists(link))
            {
                // Another process created it first.
            }
        }

        var target = Path.Combine(folder, NativeName);
        if (!File.Exists(target) || !File.ReadAllBytes(target).AsSpan().SequenceEqual(bytes))
        {
            var temp = target + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, target, overwrite: true);
        }

        return target;
    }

    private static string CacheRoot()
    {
        var configured = Environment.GetEnvironmentVariable("VLM2VEC_CACHE");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = !string.IsNullOrEmpty(xdg) ? xdg : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache") : Path.GetTempPath();
        return Path.Combine(root, "vlm2vec");
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}
