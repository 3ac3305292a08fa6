using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Vlm2Vec.ML;

/// <summary>
/// The saved form's embedding step: a <c>CustomMapping</c> that reads the settings column and the input columns of one
/// row and writes its embedding across the chunk columns. ML.NET finds this class again by its contract name when a
/// saved model is loaded (it records this assembly's name and registers it itself).
/// </summary>
/// <remarks>
/// This is the row-by-row path: it serves reloaded models and row mappers (<c>PredictionEngine</c>). A live
/// <see cref="Vlm2VecEmbeddingTransformer"/>'s <c>Transform</c> reads rows in batches instead.
/// </remarks>
[CustomMappingFactoryAttribute(ContractName)]
internal sealed class EmbeddingMapping : CustomMappingFactory<EmbeddingMapping.Input, EmbeddingChunks>
{
    public const string ContractName = "Vlm2Vec.ML.Embedding.v1";

    [ThreadStatic]
    private static CachedSpec? t_spec;

    public static void Map(Input input, EmbeddingChunks output)
    {
        var cached = SpecOf(input.Spec.Span);
        var spec = cached.Spec;
        var bytes = spec.Image == ImageSourceKind.EncodedBytes ? input.ImageBytes.GetValues().ToArray() : [];
        var path = spec.Image == ImageSourceKind.FilePath ? input.ImagePath.ToString() : null;
        var text = spec.TextColumn is null ? null : input.Text.ToString();
        var instruction = spec.InstructionColumn is null ? null : input.Instruction.ToString();
        var row = new RowEmbedding.Row(
            RowInputs.Build(spec, bytes, path, text, instruction),
            -1,
            RowInputs.Describe(spec, bytes.Length, path, text));
        var vectors = new float[1][];
        RowEmbedding.Embed(spec, cached.Json, ModelSessions.Embedder(spec), [row], vectors);
        output.Fill(cached.Layout, vectors[0]);
    }

    public override Action<Input, EmbeddingChunks> GetMapping() => Map;

    private static CachedSpec SpecOf(ReadOnlySpan<char> json)
    {
        var cached = t_spec;
        if (cached is not null && json.SequenceEqual(cached.Json))
        {
            return cached;
        }

        var text = json.ToString();
        var spec = EmbeddingSpec.Parse(text);
        cached = new CachedSpec(text, spec, ChunkLayout.For(spec.Dimension));
        t_spec = cached;
        return cached;
    }

    private sealed record CachedSpec(string Json, EmbeddingSpec Spec, int[] Layout);

    /// <summary>The columns the step reads (stand-ins fill those a pipeline does not have).</summary>
    internal sealed class Input
    {
        [ColumnName(ColumnNames.Spec)]
        public ReadOnlyMemory<char> Spec { get; set; }

        [ColumnName(ColumnNames.ImageBytes)]
        public VBuffer<byte> ImageBytes { get; set; }

        [ColumnName(ColumnNames.ImagePath)]
        public ReadOnlyMemory<char> ImagePath { get; set; }

        [ColumnName(ColumnNames.Text)]
        public ReadOnlyMemory<char> Text { get; set; }

        [ColumnName(ColumnNames.Instruction)]
        public ReadOnlyMemory<char> Instruction { get; set; }
    }
}
