using static global::TorchSharp.torch;

namespace Vlm2Vec.TorchSharp.Checkpoints;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">The tensor name as stored.</param>
/// <param name="DTypeName">The safetensors dtype name (<c>F32</c>, <c>BF16</c>, …).</param>
/// <param name="ScalarType">The TorchSharp type holding it, or null for dtypes TorchSharp 0.107 lacks (U16/U32/U64, FP8).</param>
/// <param name="Shape">The tensor shape.</param>
/// <param name="DataOffset">Start of the tensor bytes, relative to the start of the data section.</param>
/// <param name="ByteLength">Number of bytes (elements × element size).</param>
public sealed record SafetensorsTensorInfo(string Name, string DTypeName, ScalarType? ScalarType, IReadOnlyList<long> Shape, long DataOffset, long ByteLength)
{
    /// <summary>Number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var dim in Shape)
            {
                count *= dim;
            }

            return count;
        }
    }
}
