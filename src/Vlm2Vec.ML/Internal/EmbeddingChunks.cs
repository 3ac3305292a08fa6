using Microsoft.ML.Data;

namespace Vlm2Vec.ML;

/// <summary>The output of the saved form's embedding step: one fixed-size column per power of two (see <see cref="ChunkLayout"/>).</summary>
internal sealed class EmbeddingChunks
{
    [ColumnName("__vlm2vec_chunk_16384"), VectorType(16384)]
    public float[] Chunk16384 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_8192"), VectorType(8192)]
    public float[] Chunk8192 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_4096"), VectorType(4096)]
    public float[] Chunk4096 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_2048"), VectorType(2048)]
    public float[] Chunk2048 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_1024"), VectorType(1024)]
    public float[] Chunk1024 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_512"), VectorType(512)]
    public float[] Chunk512 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_256"), VectorType(256)]
    public float[] Chunk256 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_128"), VectorType(128)]
    public float[] Chunk128 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_64"), VectorType(64)]
    public float[] Chunk64 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_32"), VectorType(32)]
    public float[] Chunk32 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_16"), VectorType(16)]
    public float[] Chunk16 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_8"), VectorType(8)]
    public float[] Chunk8 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_4"), VectorType(4)]
    public float[] Chunk4 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_2"), VectorType(2)]
    public float[] Chunk2 { get; set; } = [];

    [ColumnName("__vlm2vec_chunk_1"), VectorType(1)]
    public float[] Chunk1 { get; set; } = [];

    /// <summary>Writes <paramref name="embedding"/> across the chunks of <paramref name="layout"/>, in order.</summary>
    public void Fill(int[] layout, ReadOnlySpan<float> embedding)
    {
        var offset = 0;
        foreach (var size in layout)
        {
            embedding.Slice(offset, size).CopyTo(Buffer(size));
            offset += size;
        }
    }

    /// <summary>The reusable array of one chunk (ML.NET copies it out of this object for every row).</summary>
    private float[] Buffer(int size) => size switch
    {
        16384 => Chunk16384.Length == 16384 ? Chunk16384 : Chunk16384 = new float[16384],
        8192 => Chunk8192.Length == 8192 ? Chunk8192 : Chunk8192 = new float[8192],
        4096 => Chunk4096.Length == 4096 ? Chunk4096 : Chunk4096 = new float[4096],
        2048 => Chunk2048.Length == 2048 ? Chunk2048 : Chunk2048 = new float[2048],
        1024 => Chunk1024.Length == 1024 ? Chunk1024 : Chunk1024 = new float[1024],
        512 => Chunk512.Length == 512 ? Chunk512 : Chunk512 = new float[512],
        256 => Chunk256.Length == 256 ? Chunk256 : Chunk256 = new float[256],
        128 => Chunk128.Length == 128 ? Chunk128 : Chunk128 = new float[128],
        64 => Chunk64.Length == 64 ? Chunk64 : Chunk64 = new float[64],
        32 => Chunk32.Length == 32 ? Chunk32 : Chunk32 = new float[32],
        16 => Chunk16.Length == 16 ? Chunk16 : Chunk16 = new float[16],
        8 => Chunk8.Length == 8 ? Chunk8 : Chunk8 = new float[8],
        4 => Chunk4.Length == 4 ? Chunk4 : Chunk4 = new float[4],
        2 => Chunk2.Length == 2 ? Chunk2 : Chunk2 = new float[2],
        1 => Chunk1.Length == 1 ? Chunk1 : Chunk1 = new float[1],
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "Chunk sizes are powers of two up to 16384."),
    };
}
