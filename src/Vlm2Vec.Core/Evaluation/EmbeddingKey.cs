using System.Buffers.Binary;

namespace Vlm2Vec.Evaluation;

/// <summary>A SHA-256 digest as a dictionary key (two 128-bit halves, no allocation per lookup).</summary>
internal readonly record struct EmbeddingKey(UInt128 High, UInt128 Low)
{
    public const int Size = 32;

    public static EmbeddingKey FromBytes(ReadOnlySpan<byte> digest) => new(
        BinaryPrimitives.ReadUInt128BigEndian(digest[..16]),
        BinaryPrimitives.ReadUInt128BigEndian(digest[16..32]));

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt128BigEndian(destination[..16], High);
        BinaryPrimitives.WriteUInt128BigEndian(destination[16..32], Low);
    }
}
