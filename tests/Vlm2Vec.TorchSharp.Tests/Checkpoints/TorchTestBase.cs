using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Tests.Checkpoints;

/// <summary>Loads libtorch once and gives each test a dispose scope for its tensors.</summary>
public abstract class TorchTestBase : IDisposable
{
    private readonly IDisposable _scope;

    protected TorchTestBase()
    {
        TorchSharpRuntime.EnsureLoaded();
        _scope = NewDisposeScope();
    }

    /// <summary>Whether two tensors have equal shapes and (after conversion to float64) values within <paramref name="tolerance"/>.</summary>
    protected static void AssertClose(Tensor expected, Tensor actual, double tolerance, string? what = null)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.detach().to(ScalarType.Float64).cpu();
        using var a = actual.detach().to(ScalarType.Float64).cpu();
        using var diff = e.sub(a).abs().max();
        var max = diff.item<double>();
        Assert.True(max <= tolerance, $"{what ?? "tensors"} differ by {max} (tolerance {tolerance})");
    }

    /// <summary>Like <see cref="AssertClose"/> with the tolerance relative to the largest magnitude in <paramref name="expected"/> (at least 1).</summary>
    protected static void AssertRelativelyClose(Tensor expected, Tensor actual, double relativeTolerance, string? what = null)
    {
        using var scale = expected.detach().to(ScalarType.Float64).abs().max();
        AssertClose(expected, actual, relativeTolerance * Math.Max(1, scale.item<double>()), what);
    }

    /// <summary>Exact equality of shape, type and bytes.</summary>
    protected static void AssertIdentical(Tensor expected, Tensor actual, string? what = null)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.contiguous();
        using var a = actual.contiguous();
        Assert.True(e.bytes.SequenceEqual(a.bytes), $"{what ?? "tensors"} differ");
    }

    public void Dispose()
    {
        _scope.Dispose();
        GC.SuppressFinalize(this);
    }
}
