using TorchSharp;

namespace Vlm2Vec.TorchSharp.Tests.Native;

public sealed class TorchSharpRuntimeTests
{
    [Fact]
    public void EnsureLoaded_makes_libtorch_usable()
    {
        TorchSharpRuntime.EnsureLoaded();

        Assert.StartsWith("2.10", torch.__version__, StringComparison.Ordinal);
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());
        Assert.NotNull(TorchSharpRuntime.LoadDescription);
    }

    [Fact]
    public void EnsureLoaded_is_idempotent_and_thread_safe()
    {
        Parallel.For(0, 8, _ => TorchSharpRuntime.EnsureLoaded());
        using var x = torch.ones(3);
        Assert.Equal(3f, x.sum().item<float>());
    }

    [Fact]
    public void Shipped_library_needs_the_patch_only_for_GLIBCXX_3_4_32()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp native library missing at {path}");
        var bytes = File.ReadAllBytes(path);

        var needs = ElfVersionNeeds.Read(bytes);
        Assert.Contains(needs, n => n.Version == "GLIBCXX_3.4.32" && n.File == "libstdc++.so.6");

        Assert.True(ElfVersionNeeds.MarkWeak(bytes, "GLIBCXX_3.4.32"));
        var after = ElfVersionNeeds.Read(bytes);
        Assert.All(after.Where(n => n.Version == "GLIBCXX_3.4.32"), n => Assert.Equal(2, n.Flags & 2));
        Assert.All(after.Where(n => n.Version != "GLIBCXX_3.4.32"), n => Assert.Equal(0, n.Flags & 2));
        Assert.False(ElfVersionNeeds.MarkWeak(bytes, "GLIBCXX_9.9.9"));
    }

    [Fact]
    public void Non_elf_input_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(new byte[128]));
    }
}
